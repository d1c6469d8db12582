using System.Security.Claims;
using MyPay.Api.Auth;
using MyPay.Api.Hosting;
using MyPay.Api.OpenApi;
using MyPay.Grains.Banking;
using IGrainFactory = Orleans.IGrainFactory;

namespace MyPay.Api.Banking;

public static class FirmbankingEndpoints
{
    public static WebApplication MapFirmbanking(this WebApplication app)
    {
        app.MapGet("/v1/firmbanking/{requestId}", GetAsync).RequireAuthorization()
            .WithName("GetFirmbankingRequest").WithTags(ApiTags.Firmbanking).WithSummary("Read a bank command and its history")
            .ProducesProblemFor(StatusCodes.Status404NotFound, "`unknown-firmbanking-request`: no bank command with the id is visible to the caller.");
        app.MapGet("/v1/members/{memberId}/firmbanking", ListAsync).RequireSelfOrOperator()
            .WithName("ListFirmbankingRequests").WithTags(ApiTags.Firmbanking).WithSummary("List a member's latest bank commands");
        return app;
    }

    /// <summary>One bank command: for the member it was made for, and for operators. Others get 404, not 403, so ids cannot be probed.</summary>
    private static async Task<Results<Ok<FirmbankingResponse>, ProblemHttpResult>> GetAsync(string requestId, ClaimsPrincipal user, IGrainFactory grains)
    {
        if (!RecordIds.IsValid(requestId, 100))
        {
            return NotFound(requestId);
        }

        var record = await grains.GetGrain<IFirmbankingGrain>(requestId).GetRecord();
        return record is not null && (user.IsOperator() || user.MemberId() == record.Command.MemberId)
            ? TypedResults.Ok(FirmbankingResponse.From(record))
            : NotFound(requestId);
    }

    /// <summary>The member's latest bank commands, newest first.</summary>
    private static async Task<Ok<FirmbankingResponse[]>> ListAsync(string memberId, FirmbankingQueries firmbanking, IGrainFactory grains, CancellationToken cancellationToken)
    {
        var requestIds = await firmbanking.LatestForMemberAsync(memberId, cancellationToken);
        var records = await Task.WhenAll(requestIds.Select(requestId => grains.GetGrain<IFirmbankingGrain>(requestId).GetRecord()));
        return TypedResults.Ok(records.OfType<FirmbankingRecord>().Select(FirmbankingResponse.From).ToArray());
    }

    private static ProblemHttpResult NotFound(string requestId) => Problems.Problem(
        StatusCodes.Status404NotFound, "unknown-firmbanking-request", "No such bank command.", $"No bank command {requestId} is visible to you.");

    public sealed record FirmbankingResponse(
        string RequestId,
        string MemberId,
        string Purpose,
        string FromBankCode,
        string FromAccountNumber,
        string ToBankCode,
        string ToAccountNumber,
        long Amount,
        string Status,
        string? FailureReason,
        long Fee,
        DateTimeOffset RequestedAt,
        DateTimeOffset? CompletedAt,
        IReadOnlyList<FirmbankingEvent> History)
    {
        public static FirmbankingResponse From(FirmbankingRecord record) => new(
            record.RequestId,
            record.Command.MemberId,
            record.Command.Purpose,
            record.Command.From.BankCode,
            record.Command.From.AccountNumber,
            record.Command.To.BankCode,
            record.Command.To.AccountNumber,
            record.Command.AmountWon,
            record.Status.ToString().ToLowerInvariant(),
            record.FailureReason,
            record.FeeWon,
            record.RequestedAt,
            record.CompletedAt,
            record.History);
    }
}
