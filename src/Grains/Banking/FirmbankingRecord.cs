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
    /// <summary>History entries kept per request; a request resumed again and again keeps its first and latest steps.</summary>
    public const int HistoryMax = 50;

    public bool IsFinal => Status is FirmbankingStatus.Succeeded or FirmbankingStatus.Failed;

    /// <summary>A command as it is first written: requested and sent as one step, as it may reach the bank from then on.</summary>
    public static FirmbankingRecord Sent(string requestId, FirmbankingCommand command, DateTimeOffset at) =>
        new(requestId, command, FirmbankingStatus.Sent, null, 0, at, null, [new FirmbankingEvent(at, "requested"), new FirmbankingEvent(at, "sent")]);

    /// <summary>The record with the bank's final answer: succeeded with its fee, or failed with its reason.</summary>
    public FirmbankingRecord Answered(FirmbankingStatus status, string? reason, long feeWon, DateTimeOffset at) =>
        Step(status, status == FirmbankingStatus.Succeeded ? "succeeded" : $"failed: {reason}", at) with { FailureReason = reason, FeeWon = feeWon, CompletedAt = at };

    /// <summary>The record moved on to <paramref name="status"/>, with what happened added to its history (bounded by <see cref="HistoryMax"/>).</summary>
    public FirmbankingRecord Step(FirmbankingStatus status, string what, DateTimeOffset at)
    {
        var history = new List<FirmbankingEvent>(History) { new(at, what) };
        if (history.Count > HistoryMax)
        {
            history.RemoveAt(1);
        }

        return this with { Status = status, History = history };
    }
}
