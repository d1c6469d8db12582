using System.ComponentModel.DataAnnotations;

namespace MyPay.Grains.Payments;

/// <summary>A payment as the payer's wallet applies it: who is paid, how much, and the commission rate in force.</summary>
[Orleans.GenerateSerializer]
public sealed record PaymentOrder(string PaymentId, string MerchantId, long AmountWon, long CommissionBps, string? OrderId, string IdempotencyKey, DateTimeOffset At)
{
    /// <summary>floor(amount × bps / 10,000): MyPay's commission never exceeds its rate, and never a fraction of a won.</summary>
    public long CommissionWon => checked(AmountWon * CommissionBps) / Commission.BasisPointsPerWhole;
}

public enum PaymentStatus
{
    Paid,
    InsufficientFunds,
}

/// <summary>What a payment did, from the payer's wallet. Rejections are values: a short wallet is an everyday outcome.</summary>
[Orleans.GenerateSerializer]
public sealed record PaymentOutcome(PaymentStatus Status, string PaymentId, long AmountWon, long CommissionWon, long BalanceWon);

/// <summary>A payment as stored and shown: the rate and commission in force when it was made.</summary>
[Orleans.GenerateSerializer]
public sealed record PaymentRecord(
    string PaymentId, string PayerId, string MerchantId, long AmountWon, long CommissionBps, long CommissionWon, string? OrderId, string IdempotencyKey, DateTimeOffset CreatedAt)
{
    public long NetWon => AmountWon - CommissionWon;
}

public static class Commission
{
    public const long BasisPointsPerWhole = 10_000;

    /// <summary>The default rate until an operator sets one: 250 bps, 2.5%.</summary>
    public const long DefaultRateBps = 250;
}

/// <summary>Limits on a single payment. Bound from the <c>Payments</c> section.</summary>
public sealed class PaymentLimits
{
    public const string SectionName = "Payments";

    /// <summary>Most one payment may be, in won. Default 2,000,000: a full wallet.</summary>
    [Range(1, long.MaxValue)]
    public long PaymentCapWon { get; set; } = 2_000_000;

    /// <summary>Longest order id a merchant may attach. Default 100 characters.</summary>
    [Range(1, 1000)]
    public int OrderIdLengthMax { get; set; } = 100;
}
