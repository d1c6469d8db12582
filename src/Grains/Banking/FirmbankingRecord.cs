using Orleans;

namespace MyPay.Grains.Banking;

/// <summary>What MyPay asks the bank to do: move an amount between two accounts, on behalf of a member (or of MyPay).</summary>
[GenerateSerializer]
public sealed record FirmbankingCommand(string MemberId, string Purpose, BankAccountNumber From, BankAccountNumber To, long AmountWon);

/// <summary>
/// A bank command's state machine: Requested → Sent → Succeeded | Failed, or Sent → Unknown when no
/// answer came, and Unknown → Succeeded | Failed once a status query by the same id tells.
/// </summary>
public enum FirmbankingStatus
{
    /// <summary>Kept for the state machine's wording: a request is written as Sent, with "requested" and "sent" in its history.</summary>
    Requested,
    Sent,
    Succeeded,
    Failed,
    Unknown,
}

/// <summary>One thing that happened to a request, for the audit trail.</summary>
[GenerateSerializer]
public sealed record FirmbankingEvent(DateTimeOffset At, string What);

[GenerateSerializer]
public sealed record FirmbankingRecord(
    string RequestId,
    FirmbankingCommand Command,
    FirmbankingStatus Status,
    string? FailureReason,
    long FeeWon,
    DateTimeOffset RequestedAt,
    DateTimeOffset? CompletedAt,
    IReadOnlyList<FirmbankingEvent> History)
{
    public bool IsFinal => Status is FirmbankingStatus.Succeeded or FirmbankingStatus.Failed;
}
