using Orleans;
using Orleans.Concurrency;

namespace MyPay.Grains.Banking;

/// <summary>
/// One bank command, keyed by its request id: the id the bank dedupes on. A recharge's command is driven without it
/// (<see cref="BankCommandDriver.ExecuteRecordedAsync"/>); the grain reads its row for <see cref="GetRecord"/>.
/// </summary>
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

    /// <summary>Continues an unfinished request (after a crash or an Unknown outcome) by the same steps. Null if the id was never requested.</summary>
    Task<FirmbankingRecord?> ResolveUnfinished();

    [ReadOnly]
    Task<FirmbankingRecord?> GetRecord();
}
