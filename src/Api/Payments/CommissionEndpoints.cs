using System.Security.Claims;
using MyPay.Api.Auth;
using MyPay.Api.Hosting;
using MyPay.Api.OpenApi;
using MyPay.Grains.Members;
using MyPay.Grains.Payments;
using IGrainFactory = Orleans.IGrainFactory;

namespace MyPay.Api.Payments;

public static class CommissionEndpoints
{
    public static IServiceCollection AddMyPayCommission(this IServiceCollection services) => services.AddSingleton<CommissionHistoryQueries>();

    public static WebApplication MapCommission(this WebApplication app)
    {
        app.MapPut("/v1/merchants/{merchantId}/commission", SetMerchantAsync).RequireAuthorization(Roles.Operator)
            .WithName("SetMerchantCommission").WithTags(ApiTags.Commission).WithSummary("Set a merchant's own commission rate")
            .WithDescription("`rateBps`: 0 to 10,000 basis points, or null to return the merchant to the default. Applies to payments made after the change.")
            .ProducesProblemFor(StatusCodes.Status400BadRequest, "`invalid-commission`: `rateBps` is not 0 to 10,000; `invalid-member-id`: the merchant id is malformed.")
            .ProducesProblemFor(StatusCodes.Status404NotFound, "`unknown-merchant`: no merchant has the id.");
        app.MapGet("/v1/merchants/{merchantId}/commission/history", GetHistoryAsync).RequireSelfOrOperator("merchantId")
            .WithName("GetCommissionHistory").WithTags(ApiTags.Commission).WithSummary("List the rate changes that apply to a merchant, newest first")
            .ProducesProblemFor(StatusCodes.Status404NotFound, "`unknown-merchant`: no merchant has the id.");
        app.MapPut("/v1/commission/default", SetDefaultAsync).RequireAuthorization(Roles.Operator)
            .WithName("SetDefaultCommission").WithTags(ApiTags.Commission).WithSummary("Set the default commission rate")
            .WithDescription("`rateBps`: 0 to 10,000 basis points (250, 2.5%, until first set). Applies to payments made after the change by merchants without a rate of their own.")
            .ProducesProblemFor(StatusCodes.Status400BadRequest, "`invalid-commission`: `rateBps` is missing or not 0 to 10,000.");
        app.MapGet("/v1/commission/default", GetDefaultAsync).RequireAuthorization()
            .WithName("GetDefaultCommission").WithTags(ApiTags.Commission).WithSummary("Read the default commission rate");
        return app;
    }

    /// <summary>
    /// Sets a merchant's own rate (or, with <c>rateBps: null</c>, returns it to the default). Applies to payments made
    /// after the change; the change is kept in the history with the operator and the time.
    /// </summary>
    private static async Task<Results<Ok<MerchantCommission>, ProblemHttpResult>> SetMerchantAsync(
        string merchantId, CommissionRequest request, ClaimsPrincipal user, TimeProvider time, IGrainFactory grains)
    {
        if (request.RateBps is < 0 or > Commission.BasisPointsPerWhole)
        {
            return InvalidRate(request.RateBps);
        }

        if (!MemberIds.IsValid(merchantId))
        {
            return MemberIds.Invalid(merchantId);
        }

        var profile = await grains.GetGrain<IMemberGrain>(merchantId).SetCommission(request.RateBps, user.Subject(), time.GetUtcNow());
        return profile is null
            ? UnknownMerchant(merchantId)
            : TypedResults.Ok(new MerchantCommission(merchantId, profile.CommissionBps ?? await grains.GetGrain<ICommissionGrain>(ICommissionGrain.DefaultKey).GetDefaultBps(), profile.CommissionBps is null));
    }

    private static async Task<Results<Ok<DefaultCommission>, ProblemHttpResult>> SetDefaultAsync(
        CommissionRequest request, ClaimsPrincipal user, TimeProvider time, IGrainFactory grains) =>
        request.RateBps is not { } rateBps || rateBps is < 0 or > Commission.BasisPointsPerWhole
            ? InvalidRate(request.RateBps)
            : TypedResults.Ok(new DefaultCommission(
                await grains.GetGrain<ICommissionGrain>(ICommissionGrain.DefaultKey).SetDefaultBps(rateBps, user.Subject(), time.GetUtcNow())));

    /// <summary>
    /// Every change of the rates a merchant's payments were charged at — its own and the default's — newest first, at
    /// most <see cref="CommissionHistoryQueries.ListMax"/>; for the merchant itself and operators. A customer's id is
    /// no merchant's, so it is 404 as on <c>PUT</c>.
    /// </summary>
    private static async Task<Results<Ok<CommissionHistory>, ProblemHttpResult>> GetHistoryAsync(
        string merchantId, IGrainFactory grains, CommissionHistoryQueries history, CancellationToken cancellationToken)
    {
        if (await grains.GetGrain<IMemberGrain>(merchantId).GetProfile() is not { Type: MemberType.Merchant })
        {
            return UnknownMerchant(merchantId);
        }

        var entries = await history.LatestForMerchantAsync(merchantId, cancellationToken);
        return TypedResults.Ok(new CommissionHistory(merchantId, [.. entries.Select(CommissionHistoryItem.From)]));
    }

    private static async Task<Ok<DefaultCommission>> GetDefaultAsync(IGrainFactory grains) =>
        TypedResults.Ok(new DefaultCommission(await grains.GetGrain<ICommissionGrain>(ICommissionGrain.DefaultKey).GetDefaultBps()));

    private static ProblemHttpResult UnknownMerchant(string merchantId) =>
        Problems.Problem(StatusCodes.Status404NotFound, "unknown-merchant", "No such merchant.", $"No merchant has id {merchantId}.");

    private static ProblemHttpResult InvalidRate(long? rateBps) => Problems.Problem(
        StatusCodes.Status400BadRequest, "invalid-commission", "The rate is not valid.", $"rateBps must be 0 to {Commission.BasisPointsPerWhole} basis points; got {rateBps?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "nothing"}.");

    public sealed record CommissionRequest(long? RateBps);

    public sealed record MerchantCommission(string MerchantId, long RateBps, bool IsDefault);

    public sealed record DefaultCommission(long RateBps);

    public sealed record CommissionHistory(string MerchantId, IReadOnlyList<CommissionHistoryItem> Items);

    /// <summary>
    /// One change: <c>scope</c> "merchant" (its own rate; a null rate is the default) or "default"; who made it and
    /// when; and <c>rateInForceBps</c>, the merchant's rate right after it, which a default change moves only while the
    /// merchant has no rate of its own.
    /// </summary>
    public sealed record CommissionHistoryItem(string Scope, long? OldBps, long? NewBps, string ChangedBy, DateTimeOffset ChangedAt, long RateInForceBps)
    {
        public static CommissionHistoryItem From(CommissionHistoryEntry entry) => new(
            entry.Change.MerchantId is null ? "default" : "merchant",
            entry.Change.OldBps,
            entry.Change.NewBps,
            entry.Change.ChangedBy,
            entry.Change.ChangedAt,
            entry.RateInForceBps);
    }
}
