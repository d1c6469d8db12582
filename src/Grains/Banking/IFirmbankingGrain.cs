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
    /// <see cref="Execute"/> for a caller that has already written, in a write of its own, that the command may be sent
    /// (with its index row, <see cref="FirmbankingIndexRow.Sent"/>) and that carries it on until it ends, calling this
    /// again after a crash: the grain sends without a write of its own first, and writes once, the bank's answer (or its
    /// silence). Should it die between the send and that write, the caller's next call sends again under the same id,
    /// which the bank answers with the first outcome. A command no bank could carry out is recorded as Failed, so the
    /// caller's index row ends.
    /// </summary>
    Task<FirmbankingRecord> ExecuteRecorded(FirmbankingCommand command);

    /// <summary>Continues an unfinished request (after a crash or an Unknown outcome) by the same steps. Null if the id was never requested.</summary>
    Task<FirmbankingRecord?> ResolveUnfinished();

    [ReadOnly]
    Task<FirmbankingRecord?> GetRecord();
}
