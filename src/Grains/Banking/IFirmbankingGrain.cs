using Orleans;
using Orleans.Concurrency;

namespace MyPay.Grains.Banking;

/// <summary>One bank command, keyed by its request id: the id the bank dedupes on.</summary>
public interface IFirmbankingGrain : IGrainWithStringKey
{
    /// <summary>
    /// Runs the command to a final outcome if it can: records it, sends it, and resolves a missing answer
    /// by asking the bank for the id's status (re-sending only under the same id). Calling it again
    /// with the same command continues where it stopped; a different command under the same id is refused.
    /// A command no bank could carry out (an amount not positive, one account on both sides) is Failed with its
    /// reason, never sent and not recorded.
    /// </summary>
    Task<FirmbankingRecord> Execute(FirmbankingCommand command);

    /// <summary>
    /// <see cref="Execute"/> for a caller that writes the command's steps itself: it wrote, in a write of its own, that the
    /// command may be sent (its row, <see cref="FirmbankingIndexRow.Sent"/>), writes the answer this returns in its next
    /// write (<see cref="FirmbankingIndexRow.Of"/>: the row then holds the whole record), and calls again, with
    /// <paramref name="resumed"/>, while no final answer is written. The grain writes nothing: it sends, or for a resumed
    /// command asks the bank first, re-sending under the same id only when the bank never had it. A final answer is kept
    /// while the grain lives, so a second driver gets it without a send; after that the bank answers a repeat with its
    /// first outcome. A command no bank could carry out is Failed, unsent.
    /// </summary>
    Task<FirmbankingRecord> ExecuteRecorded(FirmbankingCommand command, bool resumed);

    /// <summary>Continues an unfinished request (after a crash or an Unknown outcome) by the same steps. Null if the id was never requested.</summary>
    Task<FirmbankingRecord?> ResolveUnfinished();

    [ReadOnly]
    Task<FirmbankingRecord?> GetRecord();
}
