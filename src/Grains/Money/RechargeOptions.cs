using System.ComponentModel.DataAnnotations;

namespace MyPay.Grains.Money;

/// <summary>How recharges are carried through. Bound from the <c>Recharge</c> section.</summary>
public sealed class RechargeOptions
{
    public const string SectionName = "Recharge";

    /// <summary>
    /// How often an unfinished recharge (the bank gave no answer, or the node stopped) is resumed by its
    /// durable reminder. Default 30 s: soon enough that a member sees the outcome within a minute, rarely
    /// enough not to hammer a bank that is down.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "01:00:00")]
    public TimeSpan ResumeInterval { get; set; } = TimeSpan.FromSeconds(30);
}
