using System.Security.Claims;
using Microsoft.Extensions.Options;
using MyPay.Api.Auth;
using MyPay.Api.Banking;
using MyPay.Api.Hosting;
using MyPay.Api.OpenApi;
using MyPay.Api.Wallet;
using MyPay.Grains.Banking;
using MyPay.Grains.Members;
using MyPay.Grains.Remittance;
using MyPay.Silo.Grains;
using IGrainFactory = Orleans.IGrainFactory;

namespace MyPay.Api.Remittance;

public static class RemittanceEndpoints
{
    public static IServiceCollection AddMyPayRemittances(this IServiceCollection services) => services.AddSingleton<RemittanceQueries>();

    public static WebApplication MapRemittances(this WebApplication app)
    {
        app.MapPost("/v1/remittances", SendAsync).RequireAuthorization().WithIdempotencyKey()
            .WithName("SendRemittance").WithTags(ApiTags.Remittances).WithSummary("Send money to a member or a bank account")
            .WithDescription("Either `toMemberId`, or `toBankCode` and `toAccountNumber`; `amount` in won (1 to the remittance cap, 2,000,000 by default). To a member it is free and credited at once. To a bank account the wallet gives the amount plus MyPay's fee (500 won by default), held until the bank moves the money, and returned whole if the bank refuses. A short wallet with a linked account is first topped up by the shortfall, rounded up to 10,000 won. 202 with the remittance's address while the bank has not answered.")
            .ProducesValidationProblemFor("`invalid-remittance`: the recipient or amount is missing or malformed; `errors` names each.")
            .ProducesProblemFor(StatusCodes.Status403Forbidden, "`forbidden`: the operator cannot send money; `member-suspended`: the sender is suspended.")
            .ProducesProblemFor(StatusCodes.Status422UnprocessableEntity, "`sending-to-self`, `unknown-recipient`, `recipient-cap-exceeded`: the recipient cannot take the money; `insufficient-funds`: the wallet holds less than the amount and fee, and no linked account tops it up; `top-up-failed`: the automatic top-up failed; `bank-refused`: the bank refused the transfer and the money is back in the wallet; `idempotency-key-expired`: the key was used for another request longer ago than keys are kept (30 days by default), and nothing was sent.");
        app.MapGet("/v1/remittances/{remittanceId}", GetAsync).RequireAuthorization()
            .WithName("GetRemittance").WithTags(ApiTags.Remittances).WithSummary("Read a remittance")
            .ProducesProblemFor(StatusCodes.Status404NotFound, "`unknown-remittance`: no remittance with the id is visible to the caller.");
        app.MapGet("/v1/members/{memberId}/remittances", ListAsync).RequireSelfOrOperator()
            .WithName("ListRemittances").WithTags(ApiTags.Remittances).WithSummary("List a member's latest remittances");
        return app;
    }

    /// <summary>
    /// The caller sends money to another member (free, credited at once) or to a bank account (with MyPay's fee;
    /// held, sent by the bank, then posted — or voided and returned if the bank refuses).
    /// </summary>
    private static async Task<Results<Ok<RemittanceResponse>, Accepted<RemittanceResponse>, ValidationProblem, ProblemHttpResult>> SendAsync(
        SendRequest request,
        HttpRequest http,
        ClaimsPrincipal user,
        IGrainFactory grains,
        IOptions<RemittanceOptions> options,
        IOptions<RechargeApiOptions> wait,
        IOptions<FirmbankingOptions> firmbanking,
        TimeProvider time,
        CancellationToken cancellationToken)
    {
        if (user.MemberId() is not { } senderId)
        {
            return Problems.Problem(StatusCodes.Status403Forbidden, "forbidden", "Only members send money.", "Sign in as the sending member.");
        }

        var errors = Validate(request, options.Value, firmbanking.Value.CorporateAccount);
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, title: "The remittance is not valid.", type: Problems.TypeBase + "invalid-remittance");
        }

        var account = request.ToBankCode is null ? null : new BankAccountNumber(request.ToBankCode, request.ToAccountNumber!);
        var canonical = $"remittance\n{senderId}\n{request.ToMemberId}\n{account}\n{request.Amount}";
        var operation = Idempotency.TryRead(http, canonical, out var missingKey);
        if (operation is null)
        {
            return missingKey!;
        }

        // The id comes from the sender and their key, so a retry finds the same remittance.
        var remittanceId = Idempotency.DerivedId("rm", senderId, operation);
        var refusal = await grains.GetGrain<IMemberGrain>(senderId).GetProfile() is not { Status: MemberStatus.Active }
            ? Problems.Problem(StatusCodes.Status403Forbidden, "member-suspended", "A suspended member cannot send money.", $"Member {senderId} is not active.")
            : request.ToMemberId is { } recipientId ? await RefuseRecipientAsync(grains, senderId, recipientId) : null;
        if (refusal is not null)
        {
            // Refusals are checked against today's members; a request answered before is answered as it was.
            return await grains.GetGrain<IRemittanceGrain>(remittanceId).GetRecord() is { } first && first.Request.SenderId == senderId
                ? first.Request.RequestHash == operation.RequestHash ? Answer(first, operation) : Idempotency.KeyReused(operation.Id)
                : refusal;
        }

        var started = new RemittanceRequest(senderId, request.ToMemberId, account, request.Amount!.Value, operation.Id, operation.RequestHash, time.GetUtcNow());
        var running = grains.GetGrain<IRemittanceGrain>(remittanceId).Start(started);
        // A client that goes away ends the wait, not the remittance: the grain carries it on either way.
        if (await Task.WhenAny(running, Task.Delay(wait.Value.SynchronousWait, time, cancellationToken)) != running)
        {
            // Still waiting for the bank: the grain is busy in its turn, so the answer is built from the request.
            return TypedResults.Accepted(
                $"/v1/remittances/{remittanceId}",
                RemittanceResponse.From(new RemittanceRecord(remittanceId, started, 0, RemittanceStatus.Pending, null, "", null)) with { Fee = null });
        }

        try
        {
            return Answer(await running, operation);
        }
        catch (Exception exception) when (Idempotency.KeyProblem(operation, exception) is { } problem)
        {
            return problem;
        }
    }

    /// <summary>What a remittance's record says to its sender: done, refused (and why), or on its way.</summary>
    private static Results<Ok<RemittanceResponse>, Accepted<RemittanceResponse>, ValidationProblem, ProblemHttpResult> Answer(RemittanceRecord record, OperationKey operation) =>
        record.Status switch
        {
            RemittanceStatus.Completed => TypedResults.Ok(RemittanceResponse.From(record)),
            RemittanceStatus.Failed => record.FailureReason switch
            {
                RemittanceGrain.KeyReused => Idempotency.KeyReused(operation.Id),
                RemittanceGrain.KeyExpired => Idempotency.KeyExpired(operation.Id),
                RemittanceGrain.RecipientCapExceeded => Problems.Problem(
                    StatusCodes.Status422UnprocessableEntity, "recipient-cap-exceeded", "The recipient's wallet would exceed its cap.",
                    $"Member {record.Request.RecipientMemberId} cannot take {record.Request.AmountWon} won more under the balance cap; nothing moved."),
                RemittanceGrain.TopUpFailed => Problems.Problem(
                    StatusCodes.Status422UnprocessableEntity, "top-up-failed", "The wallet was short and the automatic top-up failed; nothing was sent.",
                    $"Remittance {record.RemittanceId} needed a top-up from the linked bank account, which did not go through."),
                _ => Problems.Problem(
                    StatusCodes.Status422UnprocessableEntity, "insufficient-funds", "The wallet holds too little.",
                    $"Sending {record.Request.AmountWon} won{(record.FeeWon > 0 ? $" plus a {record.FeeWon} won fee" : "")} needs more than the wallet holds."),
            },
            RemittanceStatus.Voided => Problems.Problem(
                StatusCodes.Status422UnprocessableEntity, "bank-refused", "The bank refused the transfer; the money is back in the wallet.",
                $"Remittance {record.RemittanceId} was refused by the bank: {Messages.Reason(record.FailureReason)}."),
            _ => TypedResults.Accepted($"/v1/remittances/{record.RemittanceId}", RemittanceResponse.From(record)),
        };

    /// <summary>A remittance, for its sender, its recipient member and operators. Others get 404.</summary>
    private static async Task<Results<Ok<RemittanceResponse>, ProblemHttpResult>> GetAsync(string remittanceId, ClaimsPrincipal user, IGrainFactory grains)
    {
        var record = RecordIds.IsValid(remittanceId, 64) ? await grains.GetGrain<IRemittanceGrain>(remittanceId).GetRecord() : null;
        var member = user.MemberId();
        return record is not null && (user.IsOperator() || member == record.Request.SenderId || member == record.Request.RecipientMemberId)
            ? TypedResults.Ok(RemittanceResponse.From(record))
            : Problems.Problem(StatusCodes.Status404NotFound, "unknown-remittance", "No such remittance.", $"No remittance {remittanceId} is visible to you.");
    }

    private static async Task<Ok<RemittanceResponse[]>> ListAsync(string memberId, RemittanceQueries remittances, IGrainFactory grains, CancellationToken cancellationToken)
    {
        var ids = await remittances.LatestForMemberAsync(memberId, cancellationToken);
        var records = await Task.WhenAll(ids.Select(id => grains.GetGrain<IRemittanceGrain>(id).GetRecord()));
        return TypedResults.Ok(records.OfType<RemittanceRecord>().Select(RemittanceResponse.From).ToArray());
    }

    private static Dictionary<string, string[]> Validate(SendRequest request, RemittanceOptions options, BankAccountNumber corporateAccount)
    {
        var errors = new Dictionary<string, string[]>();
        var toMember = request.ToMemberId is not null;
        var toBank = request.ToBankCode is not null || request.ToAccountNumber is not null;
        if (toMember == toBank)
        {
            errors["to"] = ["Give either toMemberId, or toBankCode and toAccountNumber."];
        }
        else if (toMember && !MemberIds.IsValid(request.ToMemberId!))
        {
            errors["toMemberId"] = ["toMemberId must be a member id."];
        }
        else if (toBank)
        {
            foreach (var (field, messages) in BankAccountRules.Check(request.ToBankCode, request.ToAccountNumber))
            {
                errors[field == "bankCode" ? "toBankCode" : "toAccountNumber"] = messages;
            }

            // Money sent from the corporate account to itself would go nowhere, and the bank refuses a transfer to itself.
            if (new BankAccountNumber(request.ToBankCode ?? "", request.ToAccountNumber ?? "") == corporateAccount)
            {
                errors["toAccountNumber"] = ["MyPay's own corporate account cannot receive a remittance."];
            }
        }

        if (request.Amount is not > 0 || request.Amount > options.RemittanceCapWon)
        {
            errors["amount"] = [Messages.AmountOutOfRange(request.Amount, options.RemittanceCapWon)];
        }

        return errors;
    }

    /// <summary>
    /// The recipient must be another, active member. Room under the recipient's cap is the remittance's own first step
    /// (its wallet reserves it before the sender pays), so no race can take that wallet over the cap.
    /// </summary>
    private static async Task<ProblemHttpResult?> RefuseRecipientAsync(IGrainFactory grains, string senderId, string recipientId)
    {
        if (recipientId == senderId)
        {
            return Problems.Problem(StatusCodes.Status422UnprocessableEntity, "sending-to-self", "A member cannot send money to itself.", "Choose another recipient.");
        }

        return await grains.GetGrain<IMemberGrain>(recipientId).GetProfile() is not { Status: MemberStatus.Active }
            ? Problems.Problem(StatusCodes.Status422UnprocessableEntity, "unknown-recipient", "No such active member.", $"Member {recipientId} cannot receive money.")
            : null;
    }

    public sealed record SendRequest(string? ToMemberId, string? ToBankCode, string? ToAccountNumber, long? Amount);

    public sealed record RemittanceResponse(
        string RemittanceId, string SenderId, string? ToMemberId, string? ToBankCode, string? ToAccountNumber, long Amount, long? Fee, string Status, string? FailureReason, DateTimeOffset RequestedAt, DateTimeOffset? CompletedAt)
    {
        public static RemittanceResponse From(RemittanceRecord record) => new(
            record.RemittanceId,
            record.Request.SenderId,
            record.Request.RecipientMemberId,
            record.Request.RecipientAccount?.BankCode,
            record.Request.RecipientAccount?.AccountNumber,
            record.Request.AmountWon,
            record.FeeWon,
            record.Status.ToString().ToLowerInvariant(),
            record.FailureReason,
            record.Request.At,
            record.CompletedAt);
    }
}
