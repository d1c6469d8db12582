using Microsoft.Extensions.Options;
using MyPay.Grains.Banking;
using MyPay.Grains.Payments;
using MyPay.Grains.Reports;
using MyPay.Grains.Settlement;
using MyPay.Silo.Events;
using IGrainFactory = Orleans.IGrainFactory;

namespace MyPay.Api.Operators;

/// <summary>
/// What the operators' money page shows, read for one page: the live minute, the bank commands, what merchants are
/// owed and the latest settlement runs, how far the event consumers trail, and the latest commission changes. Every
/// part is a read of an index or of a grain in memory, so the page can reload every few seconds; the ledger check and
/// reconciliation, which read the whole ledger and the bank's statement, have a page of their own
/// (<see cref="ChecksView"/>).
/// </summary>
public sealed record MoneyView(
    LiveCounters Live,
    BankCommandSummary Bank,
    PendingSettlements Pending,
    IReadOnlyList<SettlementRun> Runs,
    OutboxStatus Events,
    long DefaultCommissionBps,
    IReadOnlyList<CommissionChange> CommissionChanges,
    TimeZoneInfo Zone)
{
    /// <summary>Failed bank commands count over this window: a day.</summary>
    public static readonly TimeSpan FailedWindow = TimeSpan.FromDays(1);

    /// <summary>The most rows a list on the page shows: 10.</summary>
    public const int ListMax = 10;

    public static async Task<MoneyView> ReadAsync(MoneySources sources, CancellationToken cancellationToken)
    {
        var live = await sources.Grains.GetGrain<ILiveCountersGrain>(OutboxSubscriptions.ConsumerKey).Read();
        var bank = await sources.Firmbanking.SummaryAsync(live.At - FailedWindow, ListMax, cancellationToken);
        var pending = await sources.Settlements.PendingAsync(ListMax, cancellationToken);
        var runs = SettlementRun.Of(await sources.Settlements.LatestAsync(null, cancellationToken)).Take(ListMax).ToList();
        var events = await sources.Outbox.StatusAsync(cancellationToken);
        var defaultBps = await sources.Grains.GetGrain<ICommissionGrain>(ICommissionGrain.DefaultKey).GetDefaultBps();
        var changes = await sources.Commission.LatestAsync(ListMax, cancellationToken);
        return new MoneyView(live, bank, pending, runs, events, defaultBps, changes, sources.Zone);
    }
}

/// <summary>The services the money page reads from (minimal API parameters).</summary>
public sealed record MoneySources(
    IGrainFactory Grains,
    FirmbankingQueries Firmbanking,
    SettlementQueries Settlements,
    OutboxMonitor Outbox,
    CommissionHistoryQueries Commission,
    IOptions<SettlementOptions> Settlement)
{
    public TimeZoneInfo Zone => OperatorFormat.ZoneOf(Settlement.Value);
}

/// <summary>One settlement run (a period): its merchants, what they were owed in all, and how many settlements stand where.</summary>
public sealed record SettlementRun(SettlementPeriod Period, int Merchants, long NetWon, IReadOnlyDictionary<SettlementStatus, int> ByStatus)
{
    /// <summary>Groups settlements (newest first) into runs, newest first.</summary>
    public static IEnumerable<SettlementRun> Of(IEnumerable<SettlementRecord> settlements) =>
        settlements.GroupBy(settlement => settlement.Period).Select(run => new SettlementRun(
            run.Key,
            run.Count(),
            run.Sum(settlement => settlement.NetWon),
            run.GroupBy(settlement => settlement.Status).ToDictionary(status => status.Key, status => status.Count())));
}
