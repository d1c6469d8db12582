using System.ComponentModel.DataAnnotations;

namespace MyPay.Api.Wallet;

/// <summary>How the charge endpoint answers. Bound from the <c>Recharge</c> section.</summary>
public sealed class RechargeApiOptions
{
    public const string SectionName = "Recharge";

    /// <summary>
    /// How long a recharge request waits for the bank before answering 202 with the recharge's address.
    /// Default 10 s: a healthy bank answers in milliseconds, and a client should not hang on a sick one.
    /// The recharge carries on either way.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:01:00")]
    public TimeSpan SynchronousWait { get; set; } = TimeSpan.FromSeconds(10);
}
