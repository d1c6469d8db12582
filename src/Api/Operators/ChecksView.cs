using Microsoft.Extensions.Options;
using MyPay.Grains.Banking;
using MyPay.Grains.Ledger;
using MyPay.Grains.Settlement;
using static MyPay.Api.Ledger.LedgerEndpoints;

namespace MyPay.Api.Operators;

/// <summary>
/// What the operators' checks page shows: the ledger's self-check (as <c>GET /v1/ledger/check</c>) and the
/// reconciliation against the bank's statement (as <c>GET /v1/reconciliation</c>; null when the bank did not give its
/// statement). Both read the whole ledger, so they run when the page is opened, never on a timer.
/// </summary>
public sealed record ChecksView(LedgerCheckResponse Ledger, Reconciliation? Reconciliation, DateTimeOffset At, TimeZoneInfo Zone)
{
    public static async Task<ChecksView> ReadAsync(ChecksSources sources, CancellationToken cancellationToken) => new(
        await LedgerCheckResponse.ReadAsync(sources.Ledger, sources.Bank, sources.Firmbanking.Value, cancellationToken),
        await sources.Reconciler.ReconcileAsync(cancellationToken),
        sources.Clock.GetUtcNow(),
        OperatorFormat.ZoneOf(sources.Settlement.Value));
}

/// <summary>The services the checks page reads from (minimal API parameters).</summary>
public sealed record ChecksSources(
        LedgerQueries Ledger,
    IBankGateway Bank,
    IOptions<FirmbankingOptions> Firmbanking,
    Reconciler Reconciler,
    IOptions<SettlementOptions> Settlement,
    TimeProvider Clock);
