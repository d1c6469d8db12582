using MyPay.Api.Auth;
using MyPay.Api.Hosting;
using MyPay.Api.OpenApi;
using MyPay.Grains.Reports;
using MyPay.Silo.Events;
using IGrainFactory = Orleans.IGrainFactory;

namespace MyPay.Api.Reports;

public static class ReportEndpoints
{
    public static WebApplication MapReports(this WebApplication app)
    {
        app.MapGet("/v1/reports/money-by-region", MoneyByRegionAsync).RequireAuthorization(Roles.Operator)
            .WithName("GetMoneyByRegion").WithTags(ApiTags.Reports).WithSummary("Members whose address contains a region, and their wallets' total")
            .ProducesProblemFor(StatusCodes.Status400BadRequest, "`invalid-region`: `region` is missing, blank or too long.");
        app.MapGet("/v1/reports/live", LiveAsync).RequireAuthorization(Roles.Operator)
            .WithName("GetLiveCounters").WithTags(ApiTags.Reports).WithSummary("The live view: payments a second, the last minute second by second");
        return app;
    }

    /// <summary>
    /// Members whose address contains <paramref name="region"/> (e.g. 서울, 부산광역시 해운대구), and their wallets' total
    /// (operators). Kept from members' and wallets' events, so it trails the wallets by the events still on their way.
    /// </summary>
    private static async Task<Results<Ok<RegionMoney>, ProblemHttpResult>> MoneyByRegionAsync(
        string? region, RegionProjection projection, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(region) || region.Length > RegionProjection.RegionLengthMax || region.Any(char.IsControl))
        {
            return Problems.Problem(
                StatusCodes.Status400BadRequest, "invalid-region", "The region is not valid.",
                $"Give region as 1 to {RegionProjection.RegionLengthMax} characters of an address without control characters, as in ?region=서울; {(region is null ? "region is missing" : $"got {region.Length} characters")}.");
        }

        return TypedResults.Ok(await projection.ReportAsync(region.Trim(), cancellationToken));
    }

    /// <summary>
    /// The live view (operators): payments a second over the last ten seconds, the last minute's payments and volume
    /// second by second (refunds and recharges too), and the bank commands awaiting the bank's answer. Kept from the
    /// wallets' events, so it trails them by the events on their way; it starts empty when its grain activates.
    /// </summary>
    private static async Task<Ok<LiveCounters>> LiveAsync(IGrainFactory grains) =>
        TypedResults.Ok(await grains.GetGrain<ILiveCountersGrain>(OutboxSubscriptions.ConsumerKey).Read());
}
