using System.Security.Claims;
using Microsoft.Extensions.Options;
using MyPay.Api.Auth;
using MyPay.Api.Hosting;
using MyPay.Api.OpenApi;
using MyPay.Api.Wallet;
using MyPay.Grains.Money;
using MyPay.Grains.Payments;
using MyPay.Grains.Settlement;
using IGrainFactory = Orleans.IGrainFactory;

namespace MyPay.Api.Payments;

public static class PaymentEndpoints
{
    public static IServiceCollection AddMyPayPayments(this IServiceCollection services) => services.AddSingleton<PaymentQueries>();

    public static WebApplication MapPayments(this WebApplication app)
    {
        app.MapPost("/v1/payments", PayAsync).RequireAuthorization().WithIdempotencyKey()
            .WithName("Pay").WithTags(ApiTags.Payments).WithSummary("Pay a merchant from the wallet")
            .WithDescription("The signed-in member pays `merchantId` `amount` won (1 to the payment cap, 2,000,000 by default), with an optional `orderId`. When the wallet is short and a bank account is linked, the shortfall is first recharged, rounded up to 10,000 won; if the bank has not answered that top-up in time the answer is 202 with the recharge's address, nothing is paid yet, and the payment is to be sent again with the same key once the recharge has succeeded. The merchant is charged its commission rate; the payer pays the amount alone.")
            .ProducesValidationProblemFor("`invalid-payment`: `merchantId`, `amount` or `orderId` is missing or malformed; `errors` names each.")
            .ProducesProblemFor(StatusCodes.Status403Forbidden, "`forbidden`: the operator cannot pay; `member-suspended`: the payer is suspended.")
            .ProducesProblemFor(StatusCodes.Status422UnprocessableEntity, "`insufficient-funds`, `top-up-failed`: the wallet is short and could not be topped up; `paying-self`, `unknown-merchant`, `not-a-merchant`, `merchant-suspended`: the payee cannot take the payment; `idempotency-key-expired`: the key was used longer ago than keys are kept (30 days by default), and nothing was done.");
        app.MapGet("/v1/payments/{paymentId}", GetAsync).RequireAuthorization()
            .WithName("GetPayment").WithTags(ApiTags.Payments).WithSummary("Read a payment")
            .ProducesProblemFor(StatusCodes.Status404NotFound, "`unknown-payment`: no payment with the id is visible to the caller.");
        app.MapPost("/v1/payments/{paymentId}/refunds", RefundAsync).RequireAuthorization().WithIdempotencyKey()
            .WithName("RefundPayment").WithTags(ApiTags.Payments).WithSummary("Refund part or all of a payment")
            .WithDescription("The merchant or an operator refunds `amount` won, at most what is left of the payment. The payer's wallet is credited; the merchant's receivable and MyPay's commission are reversed in proportion.")
            .ProducesProblemFor(StatusCodes.Status400BadRequest, "`invalid-amount`: the amount is not a positive number of won.")
            .ProducesProblemFor(StatusCodes.Status403Forbidden, "`forbidden`: the payer cannot refund; the merchant or an operator does.")
            .ProducesProblemFor(StatusCodes.Status404NotFound, "`unknown-payment`: no payment with the id is visible to the caller.")
            .ProducesProblemFor(StatusCodes.Status422UnprocessableEntity, "`refund-exceeds-payment`: more than is left of the payment to refund; `refund-above-balance-cap`: the payer's wallet has no room for it under the balance cap, and nothing moved.");
        return app;
    }

    /// <summary>The caller pays a merchant from their wallet, topped up from their bank account if it is short.</summary>
    private static async Task<Results<Created<PaymentResponse>, Accepted<TopUpPendingResponse>, ValidationProblem, ProblemHttpResult>> PayAsync(
        PayRequest request,
        HttpRequest http,
        ClaimsPrincipal user,
        PaymentDesk desk,
        IOptions<PaymentLimits> limits,
        IOptions<RechargeApiOptions> recharge)
    {
        if (user.MemberId() is not { } payerId)
        {
            return Problems.Problem(StatusCodes.Status403Forbidden, "forbidden", "Only members pay.", "Sign in as the paying member.");
        }

        var errors = new Dictionary<string, string[]>();
        if (request.MerchantId is null || !MemberIds.IsValid(request.MerchantId))
        {
            errors["merchantId"] = ["merchantId must be a member id."];
        }

        if (request.Amount is not > 0 || request.Amount > limits.Value.PaymentCapWon)
        {
            errors["amount"] = [Messages.AmountOutOfRange(request.Amount, limits.Value.PaymentCapWon)];
        }

        if (request.OrderId is { } orderId && (orderId.Length == 0 || orderId.Length > limits.Value.OrderIdLengthMax || orderId.Any(char.IsControl)))
        {
            errors["orderId"] = [$"orderId must be 1 to {limits.Value.OrderIdLengthMax} characters without control characters."];
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, title: "The payment is not valid.", type: Problems.TypeBase + "invalid-payment");
        }

        var operation = Idempotency.TryRead(http, $"payment\n{payerId}\n{request.MerchantId}\n{request.Amount}\n{request.OrderId}", out var missingKey);
        if (operation is null)
        {
            return missingKey!;
        }

        PaymentResult result;
        try
        {
            result = await desk.PayAsync(payerId, request.MerchantId!, request.Amount!.Value, request.OrderId, operation, recharge.Value.SynchronousWait);
        }
        catch (Exception exception) when (Idempotency.KeyProblem(operation, exception) is { } problem)
        {
            return problem;
        }

        return result switch
        {
            { Outcome: { Status: PaymentStatus.Paid } paid } => TypedResults.Created(
                $"/v1/payments/{paid.PaymentId}",
                new PaymentResponse(paid.PaymentId, payerId, request.MerchantId!, paid.AmountWon, paid.CommissionWon, paid.AmountWon - paid.CommissionWon, request.OrderId, paid.BalanceWon, result.TopUp?.Record?.AmountWon)),
            { Outcome: { Status: PaymentStatus.InsufficientFunds } insufficient } => Problems.Problem(
                StatusCodes.Status422UnprocessableEntity, "insufficient-funds", "The wallet holds too little.",
                $"The payment is {insufficient.AmountWon} won; the wallet holds {insufficient.BalanceWon} won and no bank account is linked for a top-up."),
            { Refusal: PaymentRefusal.PayingSelf } => Problems.Problem(StatusCodes.Status422UnprocessableEntity, "paying-self", "A member cannot pay itself.", "Choose another merchant."),
            { Refusal: PaymentRefusal.PayerNotActive } => Problems.Problem(StatusCodes.Status403Forbidden, "member-suspended", "A suspended member cannot pay.", $"Member {payerId} is not active."),
            { Refusal: PaymentRefusal.UnknownMerchant } => Problems.Problem(StatusCodes.Status422UnprocessableEntity, "unknown-merchant", "No such merchant.", $"No member has id {request.MerchantId}."),
            { Refusal: PaymentRefusal.NotAMerchant } => Problems.Problem(StatusCodes.Status422UnprocessableEntity, "not-a-merchant", "The payee is not a merchant.", $"Member {request.MerchantId} is a customer; pay merchants, or send a remittance."),
            { Refusal: PaymentRefusal.MerchantNotActive } => Problems.Problem(StatusCodes.Status422UnprocessableEntity, "merchant-suspended", "The merchant is suspended.", $"Merchant {request.MerchantId} cannot take payments now."),
            { TopUp: { Status: RechargeAttemptStatus.Pending, Reservation: { } reservation } } => TypedResults.Accepted(
                $"/v1/recharges/{reservation.RechargeId}",
                new TopUpPendingResponse(
                    reservation.RechargeId,
                    reservation.AmountWon,
                    "The wallet was short and its top-up is still with the bank; nothing is paid yet. Once the recharge has succeeded, send this payment again with the same Idempotency-Key.")),
            { TopUp: { } topUp } => TopUpFailed(topUp),
            _ => throw new InvalidOperationException($"Payment by {payerId} ended with neither an outcome nor a refusal."),
        };
    }

    /// <summary>A payment, for its payer, its merchant and operators. Others get 404, so ids cannot be probed.</summary>
    private static async Task<Results<Ok<PaymentResponse>, ProblemHttpResult>> GetAsync(
        string paymentId, ClaimsPrincipal user, PaymentQueries payments, SettlementQueries settlements, IGrainFactory grains, CancellationToken cancellationToken)
    {
        var payment = paymentId.Length is > 0 and <= 64 ? await payments.FindAsync(paymentId, cancellationToken) : null;
        var member = user.MemberId();
        return payment is not null && (user.IsOperator() || member == payment.PayerId || member == payment.MerchantId)
            ? TypedResults.Ok(new PaymentResponse(payment.PaymentId, payment.PayerId, payment.MerchantId, payment.AmountWon, payment.CommissionWon, payment.NetWon, payment.OrderId, null, null)
            {
                CommissionBps = payment.CommissionBps,
                CreatedAt = payment.CreatedAt,
                Refunded = await grains.GetGrain<IPaymentGrain>(payment.PaymentId).GetRefundedWon(),
                SettlementId = await settlements.OfPaymentAsync(payment.PaymentId, cancellationToken),
            })
            : UnknownPayment(paymentId);
    }

    /// <summary>
    /// Refunds part or all of a payment (the merchant, or an operator): the payer's wallet is credited, and the
    /// merchant's receivable and MyPay's commission are reversed in proportion. Never more than was paid.
    /// </summary>
    private static async Task<Results<Created<RefundResponse>, ProblemHttpResult>> RefundAsync(
        string paymentId, RefundRequest request, HttpRequest http, ClaimsPrincipal user, PaymentQueries payments, IGrainFactory grains, CancellationToken cancellationToken)
    {
        var payment = paymentId.Length is > 0 and <= 64 ? await payments.FindAsync(paymentId, cancellationToken) : null;
        if (payment is null || !(user.IsOperator() || user.MemberId() == payment.MerchantId || user.MemberId() == payment.PayerId))
        {
            return UnknownPayment(paymentId);
        }

        if (!user.IsOperator() && user.MemberId() != payment.MerchantId)
        {
            return Problems.Problem(StatusCodes.Status403Forbidden, "forbidden", "Only the merchant or an operator refunds.", "Ask the merchant for a refund.");
        }

        var operation = Idempotency.TryRead(http, $"refund\n{paymentId}\n{request.Amount}", out var missingKey);
        if (operation is null)
        {
            return missingKey!;
        }

        var refundId = Idempotency.DerivedId("rf", paymentId, operation);
        RefundOutcome outcome;
        try
        {
            outcome = await grains.GetGrain<IPaymentGrain>(paymentId).Refund(payment, refundId, request.Amount ?? 0, operation.RequestHash);
        }
        catch (Exception exception) when (Idempotency.KeyProblem(operation, exception) is { } problem)
        {
            return problem;
        }

        return outcome.Status switch
        {
            RefundStatus.Refunded => TypedResults.Created(
                $"/v1/payments/{paymentId}",
                new RefundResponse(outcome.RefundId, paymentId, outcome.AmountWon, outcome.CommissionWon, outcome.RefundedTotalWon, outcome.RemainingWon)),
            RefundStatus.AboveThePayersBalanceCap => Problems.Problem(
                StatusCodes.Status422UnprocessableEntity, "refund-above-balance-cap", "The payer's wallet has no room for the refund.",
                $"Refunding {outcome.AmountWon} won would take the payer's wallet above its balance cap; nothing moved. Refund a smaller part, or pay the payer back another way."),
            RefundStatus.NotAPositiveAmount => Problems.Problem(
                StatusCodes.Status400BadRequest, "invalid-amount", "The amount must be positive.", request.Amount is { } amountWon ? $"Refund amount {amountWon} won is not a positive number of won." : "The refund amount is missing; give a positive number of won."),
            _ => Problems.Problem(
                StatusCodes.Status422UnprocessableEntity, "refund-exceeds-payment", "More than remains to refund.",
                $"Payment {paymentId} has {outcome.RemainingWon} won left to refund; asked for {outcome.AmountWon} won."),
        };
    }

    private static ProblemHttpResult UnknownPayment(string paymentId) =>
        Problems.Problem(StatusCodes.Status404NotFound, "unknown-payment", "No such payment.", $"No payment {paymentId} is visible to you.");

    private static ProblemHttpResult TopUpFailed(RechargeAttempt topUp) => Problems.Problem(
        StatusCodes.Status422UnprocessableEntity,
        "top-up-failed",
        "The wallet was short and the automatic top-up failed; nothing was paid.",
        topUp.Status switch
        {
            RechargeAttemptStatus.BankRefused => $"The bank refused the top-up: {Messages.Reason(topUp.Record?.FailureReason)}.",
            RechargeAttemptStatus.Rejected => $"The top-up was refused: {Messages.Reason(topUp.Reservation?.Status.ToString())}.",
            _ => $"The top-up could not start: {topUp.Status}.",
        });

    public sealed record PayRequest(string? MerchantId, long? Amount, string? OrderId);

    public sealed record RefundRequest(long? Amount);

    /// <summary>A payment waiting for its top-up: the recharge to watch (<c>GET /v1/recharges/{id}</c>), and what to do next.</summary>
    public sealed record TopUpPendingResponse(string RechargeId, long TopUpAmount, string Next);

    public sealed record RefundResponse(string RefundId, string PaymentId, long Amount, long Commission, long RefundedTotal, long Remaining);

    /// <summary>A payment: the amount, MyPay's commission, the merchant's net, and for the payer the balance after and any top-up.</summary>
    public sealed record PaymentResponse(
        string PaymentId, string PayerId, string MerchantId, long Amount, long Commission, long Net, string? OrderId, long? Balance, long? ToppedUp)
    {
        public long? CommissionBps { get; init; }

        public DateTimeOffset? CreatedAt { get; init; }

        public long? Refunded { get; init; }

        /// <summary>The settlement that paid the merchant for it, once one has (a refund is a line of the settlement that includes it).</summary>
        public string? SettlementId { get; init; }
    }
}
