using MyPay.Grains.Banking;

namespace MyPay.Grains.Money;

/// <summary>One recharge (충전), keyed by recharge id: the target of the reminder that resumes it while it is unfinished.</summary>
public interface IRechargeGrain : Orleans.IGrainWithStringKey
{
    /// <summary>Arms the reminder that resumes the recharge: called before the wallet reserves it, the step it guards.</summary>
    Task Arm();

    /// <summary>Disarms the reminder of a recharge that has finished (succeeded or failed); refuses one still pending.</summary>
    Task Disarm(RechargeRecord finished);

    /// <summary>
    /// Carries an unfinished recharge on from its stored row: asks the bank about it (sending it if the bank
    /// never got it), then credits the wallet or releases the reservation. Returns the row as it then stands:
    /// still pending while the bank's answer is unknown; null if there is no such recharge.
    /// </summary>
    Task<RechargeRecord?> CarryOn();
}

/// <summary>Stored recharges, by id.</summary>
public interface IRechargeRecords
{
    Task<RechargeRecord?> FindAsync(string rechargeId, CancellationToken cancellationToken);
}

public enum RechargeProgress
{
    Pending,
    Succeeded,
    Failed,
}

/// <summary>A recharge as its row stores it: what was asked, from which account, and how it ended.</summary>
[Orleans.GenerateSerializer]
public sealed record RechargeRecord(
    string RechargeId,
    string MemberId,
    long AmountWon,
    BankAccountNumber From,
    string IdempotencyKey,
    string FirmbankingRequestId,
    RechargeProgress Status,
    long? BalanceAfterWon,
    string? FailureReason,
    DateTimeOffset RequestedAt,
    DateTimeOffset? CompletedAt);
