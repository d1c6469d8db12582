using System.Security.Claims;
using Microsoft.Extensions.Options;
using MyPay.Api.Auth;
using MyPay.Api.Hosting;
using MyPay.Api.OpenApi;
using MyPay.Grains.Ledger;
using MyPay.Grains.Money;
using IGrainFactory = Orleans.IGrainFactory;

namespace MyPay.Api.Wallet;

public static class WalletEndpoints
{
    public static IServiceCollection AddMyPayWallet(this IServiceCollection services)
    {
        services.AddOptions<RechargeApiOptions>().BindConfiguration(RechargeApiOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        return services;
    }

    public static WebApplication MapWallet(this WebApplication app)
    {
        var wallet = app.MapGroup("/v1/members/{memberId}/wallet").WithTags(ApiTags.Wallet);
        wallet.MapGet("/", GetWalletAsync).RequireSelfOrOperator()
            .WithName("GetWallet").WithSummary("Read a wallet's balance");
        wallet.MapPost("/recharge", RechargeAsync).RequireSelf().WithIdempotencyKey()
            .WithName("Recharge").WithSummary("Recharge the wallet from the linked bank account")
            .WithDescription("`amount` in won: a positive multiple of the recharge unit, at most the single-recharge cap, and the balance with the recharges in flight stays within the wallet's cap (by default 10,000, 2,000,000 and 2,000,000 won). 200 with the new balance when the bank answers in time; otherwise 202 with the recharge's address, and the recharge carries on.")
            .ProducesProblemFor(StatusCodes.Status400BadRequest, "`invalid-amount`: the amount is not positive, or not a multiple of the recharge unit.")
            .ProducesProblemFor(StatusCodes.Status403Forbidden, "`member-suspended`: the member is suspended.")
            .ProducesProblemFor(StatusCodes.Status422UnprocessableEntity, "`recharge-cap-exceeded`, `balance-cap-exceeded`: over the single-recharge cap or the wallet's; `no-linked-bank-account`; `bank-refused`: the bank refused the transfer and nothing was charged; `idempotency-key-expired`: the key was used longer ago than keys are kept (30 days by default), and nothing was done.");
        wallet.MapGet("/history", HistoryAsync).RequireSelfOrOperator()
            .WithName("GetWalletHistory").WithSummary("List a wallet's changes, newest first, a page at a time")
            .WithDescription($"`limit` is 1 to {LedgerQueries.PageSizeMax} (default 20); pass the previous page's `nextCursor` as `cursor` for the next page.")
            .ProducesProblemFor(StatusCodes.Status400BadRequest, $"`invalid-page`: `limit` is not 1 to {LedgerQueries.PageSizeMax}; `invalid-cursor`: `cursor` is not a `nextCursor` given before.");
        app.MapGet("/v1/recharges/{rechargeId}", GetRechargeAsync).RequireAuthorization()
            .WithName("GetRecharge").WithTags(ApiTags.Wallet).WithSummary("Read a recharge")
            .ProducesProblemFor(StatusCodes.Status404NotFound, "`unknown-recharge`: no recharge with the id is visible to the caller.");
        return app;
    }

    private static async Task<Ok<WalletResponse>> GetWalletAsync(string memberId, IGrainFactory grains) =>
        TypedResults.Ok(new WalletResponse(memberId, await grains.GetGrain<IWalletGrain>(memberId).GetBalance()));

    /// <summary>
    /// The charge endpoint. The wallet reserves the amount against its limits first (so the bank never moves
    /// money that could not be credited), the bank moves it from the member's linked account to MyPay's, and
    /// the wallet is credited. 200 with the new balance when the bank answers within the configured wait;
    /// otherwise 202 with the recharge's address, and the recharge carries on.
    /// </summary>
    private static async Task<Results<Ok<RechargeResponse>, Accepted<RechargeResponse>, ProblemHttpResult>> RechargeAsync(
        string memberId,
        RechargeRequest request,
        HttpRequest http,
        Recharger recharger,
        IOptions<WalletLimits> limits,
        IOptions<RechargeApiOptions> options,
        CancellationToken cancellationToken)
    {
        var operation = Idempotency.TryRead(http, $"recharge\n{memberId}\n{request.Amount}", out var missingKey);
        if (operation is null)
        {
            return missingKey!;
        }

        // Rules that need no balance are checked here, so a malformed request never reaches the wallet or records its key.
        if (request.Amount is not { } amountWon)
        {
            return Problems.Problem(StatusCodes.Status400BadRequest, "invalid-amount", "The amount is missing.", "amount is missing; give a positive number of won.");
        }

        if (limits.Value.RejectRecharge(amountWon) is { } rejection)
        {
            return RechargeRules.Problem(rejection, amountWon, limits.Value);
        }

        RechargeAttempt attempt;
        try
        {
            // A client that goes away ends the wait for the bank, not the recharge, which the wallet carries on.
            attempt = await recharger.RechargeAsync(memberId, amountWon, operation, options.Value.SynchronousWait, cancellationToken);
        }
        catch (Exception exception) when (Idempotency.KeyProblem(operation, exception) is { } problem)
        {
            return problem;
        }

        return attempt switch
        {
            { Status: RechargeAttemptStatus.Succeeded, Record: { } record } => TypedResults.Ok(RechargeResponse.From(record)),
            { Status: RechargeAttemptStatus.Pending, Reservation: { } reservation } => Pending(reservation.RechargeId, memberId, amountWon),
            { Status: RechargeAttemptStatus.BankRefused, Record: { } record } => Problems.Problem(
                StatusCodes.Status422UnprocessableEntity, "bank-refused", "The bank refused the transfer; nothing was charged.",
                $"Recharge {record.RechargeId} failed at the bank: {Messages.Reason(record.FailureReason)}."),
            { Status: RechargeAttemptStatus.Rejected, Reservation: { } reservation } =>
                RechargeRules.Problem(reservation.Status, reservation.AmountWon, limits.Value, reservation.BalanceWon),
            { Status: RechargeAttemptStatus.NoLinkedBankAccount } => Problems.Problem(
                StatusCodes.Status422UnprocessableEntity, "no-linked-bank-account", "Link a bank account first.", "A recharge moves money from a linked bank account; this member has none."),
            _ => Problems.Problem(StatusCodes.Status403Forbidden, "member-suspended", "A suspended member cannot recharge.", $"Member {memberId} is not active."),
        };
    }

    /// <summary>A recharge, for the member it belongs to and for operators. Others get 404, so ids cannot be probed.</summary>
    private static async Task<Results<Ok<RechargeResponse>, ProblemHttpResult>> GetRechargeAsync(
        string rechargeId, ClaimsPrincipal user, IRechargeRecords recharges, CancellationToken cancellationToken)
    {
        var record = rechargeId.Length is > 0 and <= 64 ? await recharges.FindAsync(rechargeId, cancellationToken) : null;
        return record is not null && (user.IsOperator() || user.MemberId() == record.MemberId)
            ? TypedResults.Ok(RechargeResponse.From(record))
            : Problems.Problem(StatusCodes.Status404NotFound, "unknown-recharge", "No such recharge.", $"No recharge {rechargeId} is visible to you.");
    }

    /// <summary>The wallet's money-changing history, newest first, a page at a time: pass the previous page's <c>nextCursor</c>.</summary>
    private static async Task<Results<Ok<HistoryPage>, ProblemHttpResult>> HistoryAsync(
        string memberId, LedgerQueries ledger, CancellationToken cancellationToken, int? limit = null, string? cursor = null)
    {
        var pageSize = limit ?? 20;
        if (pageSize is < 1 or > LedgerQueries.PageSizeMax)
        {
            return Problems.Problem(StatusCodes.Status400BadRequest, "invalid-page", "The page size is out of range.", $"limit must be 1 to {LedgerQueries.PageSizeMax}; got {pageSize}.");
        }

        var before = long.MaxValue;
        if (cursor is not null && (!long.TryParse(cursor, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out before) || before <= 0))
        {
            return Problems.Problem(StatusCodes.Status400BadRequest, "invalid-cursor", "The cursor is not valid.", "Pass back the nextCursor of a previous page, unchanged.");
        }

        var changes = await ledger.WalletHistoryAsync(memberId, before, pageSize, cancellationToken);
        var next = changes.Count == pageSize ? changes[^1].PostingId.ToString(System.Globalization.CultureInfo.InvariantCulture) : null;
        return TypedResults.Ok(new HistoryPage(
            [.. changes.Select(change => new HistoryItem(change.Kind, change.AmountWon, change.BalanceAfterWon, change.At, change.Reference, change.IdempotencyKey, change.EntryId))],
            next));
    }

    private static Accepted<RechargeResponse> Pending(string rechargeId, string memberId, long amountWon) =>
        TypedResults.Accepted($"/v1/recharges/{rechargeId}", new RechargeResponse(rechargeId, memberId, amountWon, "pending", null, null));

    /// <summary>The body of a recharge: the amount in whole won, a JSON number (null when the body leaves it out).</summary>
    public sealed record RechargeRequest(long? Amount);

    public sealed record WalletResponse(string MemberId, long Balance);

    public sealed record RechargeResponse(string RechargeId, string MemberId, long Amount, string Status, long? Balance, string? FailureReason)
    {
        public static RechargeResponse From(RechargeRecord record) => new(
            record.RechargeId, record.MemberId, record.AmountWon, record.Status.ToString().ToLowerInvariant(), record.BalanceAfterWon, record.FailureReason);
    }

    public sealed record HistoryPage(IReadOnlyList<HistoryItem> Items, string? NextCursor);

    /// <summary>One change: its kind, the amount (+ into the wallet, − out of it), the balance after it, when, and what caused it.</summary>
    public sealed record HistoryItem(string Kind, long Amount, long? BalanceAfter, DateTimeOffset At, string? RequestId, string? IdempotencyKey, string EntryId);
}
