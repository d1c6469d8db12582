using Microsoft.Extensions.Options;
using MyPay.Api.Auth;
using MyPay.Api.Hosting;
using MyPay.Grains.Money;
using MyPay.Silo.Grains;

namespace MyPay.Api.Wallet;

public static class WalletEndpoints
{
    public static WebApplication MapWallet(this WebApplication app)
    {
        var wallet = app.MapGroup("/v1/members/{memberId}/wallet");
        wallet.MapGet("/", GetWalletAsync).RequireSelfOrOperator();
        wallet.MapPost("/recharge", RechargeAsync).RequireSelf();
        return app;
    }

    private static async Task<Results<Ok<WalletResponse>, ProblemHttpResult>> GetWalletAsync(string memberId, IGrainFactory grains)
    {
        var balanceWon = await grains.GetGrain<IWalletGrain>(memberId).GetBalance();
        return TypedResults.Ok(new WalletResponse(memberId, balanceWon));
    }

    private static async Task<Results<Ok<RechargeResponse>, ProblemHttpResult>> RechargeAsync(
        string memberId, RechargeRequest request, HttpRequest http, IGrainFactory grains, IOptions<WalletLimits> limits)
    {
        var operation = Idempotency.TryRead(http, $"recharge\n{memberId}\n{request.Amount}", out var missingKey);
        if (operation is null)
        {
            return missingKey!;
        }

        // Rules that need no balance are checked here, so a malformed request never reaches the wallet or records its key.
        if (RechargeRules.Reject(request.Amount, limits.Value) is { } rejection)
        {
            return RechargeRules.Problem(rejection, request.Amount, limits.Value);
        }

        RechargeOutcome outcome;
        try
        {
            outcome = await grains.GetGrain<IWalletGrain>(memberId).Recharge(request.Amount, operation);
        }
        catch (OperationKeyReusedException)
        {
            return Idempotency.KeyReused(operation.Id);
        }

        return outcome.Status == RechargeStatus.Recharged
            ? TypedResults.Ok(new RechargeResponse(memberId, outcome.AmountWon, outcome.BalanceWon))
            : RechargeRules.Problem(outcome.Status, outcome.AmountWon, limits.Value, outcome.BalanceWon);
    }

    /// <summary>The body of a recharge: the amount in whole won, a JSON number.</summary>
    public sealed record RechargeRequest(long Amount);

    public sealed record WalletResponse(string MemberId, long Balance);

    public sealed record RechargeResponse(string MemberId, long Amount, long Balance);
}
