using MyPay.Grains.Banking;

namespace MyPay.Grains.Money;

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
