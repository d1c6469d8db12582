using System.Security.Claims;
using MyPay.Api.Auth;
using MyPay.Api.Hosting;
using MyPay.Api.OpenApi;
using MyPay.Grains.Settlement;
using IGrainFactory = Orleans.IGrainFactory;

namespace MyPay.Api.Settlement;

public static class SettlementEndpoints
{
    public static WebApplication MapSettlements(this WebApplication app)
    {
        app.MapPost("/v1/settlements/run", RunAsync).RequireAuthorization(Roles.Operator)
            .WithName("RunSettlement").WithTags(ApiTags.Settlements).WithSummary("Settle every merchant owed, now");
        app.MapGet("/v1/settlements", ListAsync).RequireAuthorization(Roles.Operator)
            .WithName("ListSettlements").WithTags(ApiTags.Settlements).WithSummary("List the latest settlements, grouped in runs");
        app.MapGet("/v1/settlements/{settlementId}", GetAsync).RequireAuthorization()
            .WithName("GetSettlement").WithTags(ApiTags.Settlements).WithSummary("Read a settlement with its payments and refunds")
            .ProducesProblemFor(StatusCodes.Status404NotFound, "`unknown-settlement`: no settlement with the id is visible to the caller.");
        app.MapGet("/v1/merchants/{merchantId}/settlements", ListMerchantsAsync).RequireSelfOrOperator("merchantId")
            .WithName("ListMerchantSettlements").WithTags(ApiTags.Settlements).WithSummary("List a merchant's settlements, newest first");
        return app;
    }

    /// <summary>Settles every merchant owed, now: the path the daily reminder takes, with a cut-off of now.</summary>
    private static async Task<Ok<RunResponse>> RunAsync(IGrainFactory grains)
    {
        var run = await grains.GetGrain<ISettlementScheduleGrain>(ISettlementScheduleGrain.Key).RunNow();
        return TypedResults.Ok(new RunResponse(run.Period.Id, run.Period.Cutoff, [.. run.Settlements.Select(SettlementResponse.From)]));
    }

    /// <summary>The latest settlements, grouped in runs (one per period), newest first, each with its per-merchant lines.</summary>
    private static async Task<Ok<RunResponse[]>> ListAsync(SettlementQueries settlements, CancellationToken cancellationToken) =>
        TypedResults.Ok((await settlements.LatestAsync(null, cancellationToken))
            .GroupBy(settlement => settlement.Period)
            .Select(run => new RunResponse(run.Key.Id, run.Key.Cutoff, [.. run.Select(SettlementResponse.From)]))
            .ToArray());

    /// <summary>One settlement with every payment and refund it includes, for operators and its merchant; others get 404, so ids cannot be probed.</summary>
    private static async Task<Results<Ok<SettlementResponse>, ProblemHttpResult>> GetAsync(
        string settlementId, ClaimsPrincipal user, SettlementQueries settlements, CancellationToken cancellationToken)
    {
        var settlement = settlementId.Length is > 0 and <= 200 ? await settlements.FindAsync(settlementId, cancellationToken) : null;
        return settlement is not null && (user.IsOperator() || user.MemberId() == settlement.MerchantId)
            ? TypedResults.Ok(SettlementResponse.From(settlement) with
            {
                Lines = [.. (await settlements.LinesAsync(settlement.SettlementId, settlement.MerchantId, cancellationToken)).Select(LineResponse.From)],
            })
            : Problems.Problem(StatusCodes.Status404NotFound, "unknown-settlement", "No such settlement.", $"No settlement {settlementId} is visible to you.");
    }

    /// <summary>A merchant's latest settlements, newest first (the merchant, or operators).</summary>
    private static async Task<Ok<SettlementResponse[]>> ListMerchantsAsync(string merchantId, SettlementQueries settlements, CancellationToken cancellationToken) =>
        TypedResults.Ok((await settlements.LatestAsync(merchantId, cancellationToken)).Select(SettlementResponse.From).ToArray());

    public sealed record RunResponse(string Period, DateTimeOffset Cutoff, SettlementResponse[] Settlements);

    public sealed record SettlementResponse(
        string SettlementId,
        string MerchantId,
        string Period,
        DateTimeOffset Cutoff,
        long Net,
        int Items,
        string Status,
        string? ToBankCode,
        string? ToAccountNumber,
        string? FirmbankingRequestId,
        long BankFee,
        string? FailureReason,
        DateTimeOffset CreatedAt,
        DateTimeOffset? PaidAt)
    {
        /// <summary>The payments and refunds it includes, when one settlement is asked for.</summary>
        public LineResponse[]? Lines { get; init; }

        public static SettlementResponse From(SettlementRecord settlement) => new(
            settlement.SettlementId,
            settlement.MerchantId,
            settlement.Period.Id,
            settlement.Period.Cutoff,
            settlement.NetWon,
            settlement.Items,
            SettlementWriter.StatusName(settlement.Status),
            settlement.To?.BankCode,
            settlement.To?.AccountNumber,
            settlement.FirmbankingRequestId,
            settlement.BankFeeWon,
            settlement.FailureReason,
            settlement.CreatedAt,
            settlement.PaidAt);
    }

    /// <summary>A payment (positive) or refund (negative) in a settlement: its amount, MyPay's commission in it, and what the merchant is paid for it.</summary>
    public sealed record LineResponse(string Kind, string PaymentId, string EntryId, long Amount, long Commission, long Net, DateTimeOffset At)
    {
        public static LineResponse From(SettlementLine line) => new(line.Kind, line.PaymentId, line.EntryId, line.AmountWon, line.CommissionWon, line.NetWon, line.At);
    }
}
