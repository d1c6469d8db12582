using System.ComponentModel.DataAnnotations;
using MyPay.Grains.Banking;

namespace MyPay.Grains.Remittance;

/// <summary>What a member asks: send an amount to another member, or to a bank account (then with MyPay's fee).</summary>
[Orleans.GenerateSerializer]
public sealed record RemittanceRequest(string SenderId, string? RecipientMemberId, BankAccountNumber? RecipientAccount, long AmountWon, string IdempotencyKey, string RequestHash, DateTimeOffset At)
{
    public bool ToBank => RecipientAccount is not null;
}

/// <summary>
/// Where a remittance stands. To a member: Pending → Debited (the journal entry moved the money; the recipient's
/// wallet grain has yet to count it) → Completed. To a bank account: Pending → Held → Completed, or Held → Voided
/// when the bank refuses (the sender gets everything back). Failed: refused before any money moved.
/// </summary>
public enum RemittanceStatus
{
    Pending,
    Debited,
    Held,
    Completed,
    Voided,
    Failed,
}

[Orleans.GenerateSerializer]
public sealed record RemittanceRecord(
    string RemittanceId,
    RemittanceRequest Request,
    long FeeWon,
    RemittanceStatus Status,
    string? FailureReason,
    string FirmbankingRequestId,
    DateTimeOffset? CompletedAt)
{
    public bool IsFinal => Status is RemittanceStatus.Completed or RemittanceStatus.Voided or RemittanceStatus.Failed;
}

/// <summary>A remittance's index row (see the remittance table).</summary>
public sealed record RemittanceRow(string RemittanceId, string SenderId, string? RecipientMemberId, BankAccountNumber? RecipientAccount, long AmountWon, DateTimeOffset CreatedAt);

/// <summary>A remittance's row marked finished (completed, voided or failed), with its final state.</summary>
public sealed record RemittanceFinished(string RemittanceId, DateTimeOffset FinishedAt);

/// <summary>Remittance settings. Bound from the <c>Remittance</c> section.</summary>
public sealed class RemittanceOptions
{
    public const string SectionName = "Remittance";

    /// <summary>MyPay's fee for sending to a bank account, in won. Default 500; sending to a member is free.</summary>
    [Range(0, 100_000)]
    public long BankTransferFeeWon { get; set; } = 500;

    /// <summary>Most one remittance may be, in won. Default 2,000,000: a full wallet.</summary>
    [Range(1, long.MaxValue)]
    public long RemittanceCapWon { get; set; } = 2_000_000;

    /// <summary>How often an unfinished remittance is resumed by its durable reminder. Default 30 s.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "01:00:00")]
    public TimeSpan ResumeInterval { get; set; } = TimeSpan.FromSeconds(30);
}

/// <summary>What the sender's wallet decided when asked to give the money.</summary>
public enum RemittanceDebit
{
    Debited,
    InsufficientFunds,
}
