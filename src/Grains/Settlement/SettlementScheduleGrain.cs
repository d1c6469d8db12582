using System.Runtime.ExceptionServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans;
using Orleans.Concurrency;
using Orleans.Runtime;

namespace MyPay.Grains.Settlement;

/// <summary>
/// Settles every merchant owed, each period, driven by an Orleans reminder; one grain, keyed <see cref="Key"/>. An
/// operator's run now takes the same path with a cut-off of now.
/// </summary>
public interface ISettlementScheduleGrain : IGrainWithStringKey
{
    public const string Key = "merchants";

    /// <summary>Registers (or moves) the reminder: due just after the next cut-off, then every period. Every node asks as it starts.</summary>
    [AlwaysInterleave]
    Task Arm();

    /// <summary>
    /// Settles every merchant owed for payments and refunds made before now. A run over many merchants takes a while
    /// (tens of merchants a second, each a bank transfer): its caller waits up to ten minutes, not Orleans' 30 s.
    /// </summary>
    [ResponseTimeout("00:10:00")]
    Task<SettlementRun> RunNow();

    /// <summary>Settles every merchant owed for <paramref name="period"/>: what the reminder does at each cut-off.</summary>
    [ResponseTimeout("00:10:00")]
    Task<SettlementRun> Run(SettlementPeriod period);
}

/// <summary>A run: its period, and the settlement it made for each merchant owed (paid, pending or carried).</summary>
[GenerateSerializer]
public sealed record SettlementRun(SettlementPeriod Period, IReadOnlyList<SettlementRecord> Settlements);

public sealed partial class SettlementScheduleGrain(
    SettlementQueries queries, IOptions<SettlementOptions> options, TimeProvider time, ILogger<SettlementScheduleGrain> logger)
    : Grain, ISettlementScheduleGrain, IRemindable
{
    public const string ReminderName = "settle";

    /// <summary>A tick is due this long after its cut-off, so the cut-off it settles has certainly passed.</summary>
    private static readonly TimeSpan AfterCutoff = TimeSpan.FromMilliseconds(100);

    public async Task Arm()
    {
        var now = time.GetUtcNow();
        var next = options.Value.CutoffAtOrBefore(now) + options.Value.Period;
        await this.RegisterOrUpdateReminder(ReminderName, next - now + AfterCutoff, options.Value.Period);
    }

    public Task ReceiveReminder(string reminderName, TickStatus status) =>
        reminderName == ReminderName ? Run(SettlementOptions.Ending(options.Value.CutoffAtOrBefore(time.GetUtcNow()))) : Task.CompletedTask;

    public Task<SettlementRun> RunNow() => Run(SettlementOptions.RunNow(time.GetUtcNow()));

    /// <summary>
    /// Settles the merchants owed, <see cref="SettlementOptions.ConcurrentMerchants"/> at a time. One merchant failing
    /// (the database away, a bug) does not hold the others back: every merchant is tried, each failure is logged, and
    /// the run then fails with the first, so its caller (or the next tick) knows it was not whole.
    /// </summary>
    public async Task<SettlementRun> Run(SettlementPeriod period)
    {
        var merchants = await queries.MerchantsWithUnsettledAsync(period.Cutoff, CancellationToken.None);
        using var slots = new SemaphoreSlim(options.Value.ConcurrentMerchants);
        var outcomes = await Task.WhenAll(merchants.Select(async merchant =>
        {
            await slots.WaitAsync();
            try
            {
                return (Settled: await GrainFactory.GetGrain<IMerchantSettlementGrain>(merchant).Settle(period), Failure: (Exception?)null);
            }
            catch (Exception exception)
            {
                LogMerchantFailed(logger, merchant, period.Id, exception);
                return (Settled: null, Failure: exception);
            }
            finally
            {
                slots.Release();
            }
        }));

        if (outcomes.Select(outcome => outcome.Failure).FirstOrDefault(failure => failure is not null) is { } first)
        {
            ExceptionDispatchInfo.Throw(first);
        }

        return new SettlementRun(period, [.. outcomes.Select(outcome => outcome.Settled).OfType<SettlementRecord>()]);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Settling merchant {MerchantId} for period {Period} failed; the other merchants are settled, and the merchant is tried again by the next run")]
    private static partial void LogMerchantFailed(ILogger logger, string merchantId, string period, Exception exception);
}

/// <summary>Arms the settlement reminder once the silo is active, on every node (arming is idempotent).</summary>
internal sealed class ArmSettlementWhenActive(IGrainFactory grains) : ILifecycleParticipant<ISiloLifecycle>
{
    public void Participate(ISiloLifecycle lifecycle) => lifecycle.Subscribe(
        nameof(ArmSettlementWhenActive),
        ServiceLifecycleStage.Active,
        _ => grains.GetGrain<ISettlementScheduleGrain>(ISettlementScheduleGrain.Key).Arm());
}
