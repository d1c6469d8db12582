using MyPay.Grains.Banking;

namespace MyPay.Grains.Money;

/// <summary>One recharge (충전), keyed by recharge id: the target of the reminder that resumes it while it is unfinished.</summary>
public interface IRechargeGrain
{
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

/// <summary>
/// A recharge grain keeps nothing of its own (the recharge's row is written by the member's wallet); it writes
/// only to clear a reminder that has no recharge behind it.
/// </summary>
public sealed class RechargeState;
