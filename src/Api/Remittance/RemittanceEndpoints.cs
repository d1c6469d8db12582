using System.Security.Claims;
using Microsoft.Extensions.Options;
using MyPay.Api.Auth;
using MyPay.Api.Banking;
using MyPay.Api.Hosting;
using MyPay.Api.Wallet;
using MyPay.Grains.Banking;
using MyPay.Grains.Members;
using MyPay.Grains.Money;
using MyPay.Grains.Remittance;
using MyPay.Silo.Grains;
using IGrainFactory = Orleans.IGrainFactory;

namespace MyPay.Api.Remittance;

public static class RemittanceEndpoints
{
    public static IServiceCollection AddMyPayRemittances(this IServiceCollection services) => services.AddSingleton<RemittanceQueries>();

    public static WebApplication MapRemittances(this WebApplication app)
    {
        app.MapPost("/v1/remittances", SendAsync).RequireAuthorization();
        app.MapGet("/v1/remittances/{remittanceId}", GetAsync).RequireAuthorization();
        app.MapGet("/v1/members/{memberId}/remittances", ListAsync).RequireSelfOrOperator();
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
        IOptions<WalletLimits> walletLimits,
        IOptions<RechargeApiOptions> wait,
        IOptions<FirmbankingOptions> firmbanking,
        TimeProvider time)
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

        if (await grains.GetGrain<IMemberGrain>(senderId).GetProfile() is not { Status: MemberStatus.Active })
        {
            return Problems.Problem(StatusCodes.Status403Forbidden, "member-suspended", "A suspended member cannot send money.", $"Member {senderId} is not active.");
        }

        if (request.ToMemberId is { } recipientId && await RefuseRecipientAsync(grains, senderId, recipientId, request.Amount!.Value, walletLimits.Value) is { } refusal)
        {
            return refusal;
        }

        // The id comes from the sender and their key, so a retry finds the same remittance.
        var remittanceId = Idempotency.DerivedId("rm", senderId, operation);
        var started = new RemittanceRequest(senderId, request.ToMemberId, account, request.Amount!.Value, operation.Id, operation.RequestHash, time.GetUtcNow());
        var running = grains.GetGrain<IRemittanceGrain>(remittanceId).Start(started);
        if (await Task.WhenAny(running, Task.Delay(wait.Value.SynchronousWait, time)) != running)
        {
            // Still waiting for the bank: the grain is busy in its turn, so the answer is built from the request.
            return TypedResults.Accepted(
                $"/v1/remittances/{remittanceId}",
                RemittanceResponse.From(new RemittanceRecord(remittanceId, started, 0, RemittanceStatus.Pending, null, "", null)) with { Fee = null });
        }

        RemittanceRecord record;
        try
        {
            record = await running;
        }
        catch (OperationKeyReusedException)
        {
            return Idempotency.KeyReused(operation.Id);
        }

        return record.Status switch
        {
            RemittanceStatus.Completed => TypedResults.Ok(RemittanceResponse.From(record)),
            RemittanceStatus.Failed when record.FailureReason == RemittanceGrain.KeyReused => Idempotency.KeyReused(operation.Id),
            RemittanceStatus.Failed => Problems.Problem(
                StatusCodes.Status422UnprocessableEntity, "insufficient-funds", "The wallet holds too little.",
                $"Sending {record.Request.AmountWon} won{(record.FeeWon > 0 ? $" plus a {record.FeeWon} won fee" : "")} needs more than the wallet holds."),
            RemittanceStatus.Voided => Problems.Problem(
                StatusCodes.Status422UnprocessableEntity, "bank-refused", "The bank refused the transfer; the money is back in the wallet.",
                $"Remittance {record.RemittanceId} was refused by the bank: {Messages.Reason(record.FailureReason)}."),
            _ => TypedResults.Accepted($"/v1/remittances/{record.RemittanceId}", RemittanceResponse.From(record)),
        };
    }

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

    private static async Task<ProblemHttpResult?> RefuseRecipientAsync(IGrainFactory grains, string senderId, string recipientId, long amountWon, WalletLimits limits)
    {
        if (recipientId == senderId)
        {
            return Problems.Problem(StatusCodes.Status422UnprocessableEntity, "sending-to-self", "A member cannot send money to itself.", "Choose another recipient.");
        }

        if (await grains.GetGrain<IMemberGrain>(recipientId).GetProfile() is not { Status: MemberStatus.Active })
        {
            return Problems.Problem(StatusCodes.Status422UnprocessableEntity, "unknown-recipient", "No such active member.", $"Member {recipientId} cannot receive money.");
        }

        // The prepaid cap, checked before any money moves; a race past it still lands the money (it is the recipient's).
        var balanceWon = await grains.GetGrain<IWalletGrain>(recipientId).GetBalance();
        return balanceWon > limits.BalanceCapWon - amountWon
            ? Problems.Problem(StatusCodes.Status422UnprocessableEntity, "recipient-cap-exceeded", "The recipient's wallet would exceed its cap.", $"The recipient can take at most {Math.Max(0, limits.BalanceCapWon - balanceWon)} won more.")
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
