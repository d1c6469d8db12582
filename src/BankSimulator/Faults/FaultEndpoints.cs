using MyPay.BankSimulator.Accounts;
using MyPay.BankSimulator.Banks;
using MyPay.BankSimulator.Hosting;

namespace MyPay.BankSimulator.Faults;

/// <summary>
/// Runtime control of the faults each bank injects. These endpoints are for tests and operators of the
/// simulator; they never suffer faults themselves.
/// </summary>
public static class FaultEndpoints
{
    public static WebApplication MapFaults(this WebApplication app)
    {
        var faults = app.MapGroup("/faults");
        faults.MapGet("/", GetAll);
        faults.MapPut("/{bankCode}", Set);
        faults.MapDelete("/", Reset);
        return app;
    }

    public static IServiceCollection AddFaults(this IServiceCollection services) => services.AddSingleton<FaultInjector>();

    /// <summary>The answer of a bank that erred (503, 429 or 408): nothing was applied, so the same request may be sent again.</summary>
    public static ProblemHttpResult BankUnavailable(IReadOnlyCollection<string> bankCodes, int status)
    {
        var banks = string.Join(" or ", bankCodes.Distinct(StringComparer.Ordinal));
        const string Again = "nothing was applied. Send the same request again, with the same request id.";
        return status switch
        {
            StatusCodes.Status429TooManyRequests => Problems.Problem(
                status, "too-many-requests", "The bank is throttling requests.", $"Bank {banks} refused the request for now; {Again}"),
            StatusCodes.Status408RequestTimeout => Problems.Problem(
                status, "request-timeout", "The bank timed the request out.", $"Bank {banks} gave up waiting for the request; {Again}"),
            _ => Problems.Problem(StatusCodes.Status503ServiceUnavailable, "bank-unavailable", "The bank is unavailable.", $"Bank {banks} did not answer; {Again}"),
        };
    }

    /// <summary>Every bank of the network, with its faults (zero when none are set).</summary>
    private static Ok<FaultResponse[]> GetAll(FaultInjector injector) =>
        TypedResults.Ok(BankDirectory.All.Select(bank => FaultResponse.Of(bank.BankCode, injector.Get(bank.BankCode))).ToArray());

    private static Results<Ok<FaultResponse>, ValidationProblem, ProblemHttpResult> Set(
        string bankCode, FaultRequest request, FaultInjector injector, ILogger<FaultInjector> logger)
    {
        var settings = new FaultSettings(
            request.LatencyMs ?? 0, request.ErrorRate ?? 0, request.LostResponseRate ?? 0, request.ErrorStatus ?? StatusCodes.Status503ServiceUnavailable);
        var errors = new ValidationErrors()
            .Add("bankCode", AccountRules.BankCodeError(bankCode))
            .Add("latencyMs", settings.LatencyMs is < 0 or > FaultSettings.LatencyMsMax
                ? $"must be 0 to {FaultSettings.LatencyMsMax} milliseconds; got {settings.LatencyMs}."
                : null)
            .Add("errorRate", RateError(settings.ErrorRate))
            .Add("lostResponseRate", RateError(settings.LostResponseRate))
            .Add("errorStatus", FaultSettings.ErrorStatuses.Contains(settings.ErrorStatus)
                ? null
                : $"must be one of {string.Join(", ", FaultSettings.ErrorStatuses)}; got {settings.ErrorStatus}.");
        if (errors.Any)
        {
            return errors.ToProblem();
        }

        if (!BankDirectory.Exists(bankCode))
        {
            return Problems.UnknownBank(bankCode);
        }

        injector.Set(bankCode, settings);
        FaultLog.FaultsSet(logger, bankCode, settings.LatencyMs, settings.ErrorRate, settings.ErrorStatus, settings.LostResponseRate);
        return TypedResults.Ok(FaultResponse.Of(bankCode, settings));
    }

    private static NoContent Reset(FaultInjector injector, ILogger<FaultInjector> logger)
    {
        injector.Reset();
        FaultLog.FaultsReset(logger);
        return TypedResults.NoContent();
    }

    private static string? RateError(double rate) => rate is >= 0 and <= 1 ? null : $"must be a probability from 0 to 1; got {rate}.";
}
