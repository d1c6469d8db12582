using MyPay.Grains.Banking;
using MyPay.Silo.Grains;

namespace MyPay.Grains.Money;

/// <summary>One recharge (충전), keyed by recharge id: reserve, move the money at the bank, credit the wallet.</summary>
public interface IRechargeGrain
{
    /// <summary>
    /// Starts the recharge, or continues it if it has started: runs the bank transfer and credits the wallet
    /// when the bank says it moved the money, or releases the reservation when the bank refuses. Returns the
    /// record as it stands: Pending while the bank's answer is unknown (a reminder resumes it).
    /// </summary>
    Task<RechargeRecord> Start(RechargeRequest request);

    Task<RechargeRecord?> GetRecord();
}

public sealed record RechargeRequest(string MemberId, long AmountWon, BankAccountNumber From, string IdempotencyKey, DateTimeOffset RequestedAt);

public enum RechargeProgress
{
    Pending,
    Succeeded,
    Failed,
}

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

public sealed class RechargeState
{
    public RechargeRecord? Record { get; set; }
}

internal sealed class RechargeGrainReference(GrainReference<RechargeGrain> grain) : IRechargeGrain
{
    public Task<RechargeRecord> Start(RechargeRequest request) => grain.Call(recharge => recharge.StartAsync(request));

    public Task<RechargeRecord?> GetRecord() => grain.Read(recharge => recharge.Record);
}
