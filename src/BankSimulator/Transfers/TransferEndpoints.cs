using MyPay.BankSimulator.Faults;
using MyPay.BankSimulator.Hosting;
using MyPay.BankSimulator.Ledger;

namespace MyPay.BankSimulator.Transfers;

public static class TransferEndpoints
{
    public static WebApplication MapTransfers(this WebApplication app)
    {
        var transfers = app.MapGroup("/transfers");
        transfers.MapPost("/", TransferAsync);
        transfers.MapGet("/{requestId}", GetTransferAsync);
        return app;
    }

    /// <summary>
    /// Moves money once per request id. A business refusal is a 200 with status "failed"; HTTP errors
    /// are for requests the bank could not read or would not take.
    /// </summary>
    private static async Task<Results<Ok<TransferResponse>, ValidationProblem, ProblemHttpResult, LostResponse>> TransferAsync(
        TransferRequest request, BankLedger ledger, FaultInjector faults, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        var errors = new ValidationErrors();
        if (TransferRules.TryCreate(request, errors) is not { } order)
        {
            return errors.ToProblem();
        }

        string[] bankCodes = [order.From.BankCode, order.To.BankCode];
        var injection = await faults.InjectAsync(bankCodes, cancellationToken);
        if (injection.Fault == InjectedFault.BankUnavailable)
        {
            return FaultEndpoints.BankUnavailable(bankCodes, injection.ErrorStatus);
        }

        var result = await ledger.TransferAsync(order);
        Log(loggers.CreateLogger(typeof(TransferEndpoints)), order, result);

        // The transfer is applied (or refused, or replayed) before the answer is lost: the client must ask.
        if (injection.Fault == InjectedFault.LostResponse)
        {
            return LostResponse.Instance;
        }

        return result switch
        {
            TransferResult.Recorded recorded => TypedResults.Ok(TransferResponse.Of(recorded.Record)),
            TransferResult.RequestIdReused => Problems.Problem(
                StatusCodes.Status409Conflict,
                "request-id-reused",
                "The request id was already used for another transfer.",
                $"Request id '{order.RequestId}' was first used with another from, to or amount; GET /transfers/{order.RequestId} shows that transfer. Use a new request id for a new transfer."),
            TransferResult.LedgerFull full => LedgerFull(full.TransfersMax),
            _ => throw new InvalidOperationException($"Unexpected transfer result {result}."),
        };
    }

    /// <summary>
    /// The recorded outcome of a request id: how a client resolves a lost answer. 404 means the bank has
    /// not applied it (yet: a request still on its way may apply it later, so to settle the question
    /// send the same request again; it is applied at most once).
    /// </summary>
    private static async Task<Results<Ok<TransferResponse>, ValidationProblem, ProblemHttpResult, LostResponse>> GetTransferAsync(
        string requestId, BankLedger ledger, FaultInjector faults, CancellationToken cancellationToken)
    {
        if (TransferRules.RequestIdError(requestId) is { } error)
        {
            return new ValidationErrors().Add("requestId", error).ToProblem();
        }

        // An unknown id involves no bank, so it suffers no fault.
        if (await ledger.FindTransferAsync(requestId, cancellationToken) is not { } record)
        {
            return Problems.Problem(
                StatusCodes.Status404NotFound,
                "unknown-transfer",
                "The bank has no transfer with this request id.",
                $"No transfer with request id '{requestId}' was applied or refused by the bank.");
        }

        string[] bankCodes = [record.Order.From.BankCode, record.Order.To.BankCode];
        var injection = await faults.InjectAsync(bankCodes, cancellationToken);
        return injection.Fault switch
        {
            InjectedFault.BankUnavailable => FaultEndpoints.BankUnavailable(bankCodes, injection.ErrorStatus),
            InjectedFault.LostResponse => LostResponse.Instance,
            _ => TypedResults.Ok(TransferResponse.Of(record)),
        };
    }

    private static ProblemHttpResult LedgerFull(int transfersMax) => Problems.Problem(
        StatusCodes.Status503ServiceUnavailable,
        "ledger-full",
        "The simulator cannot record more transfers.",
        $"The books record at most {transfersMax} transfers (Bank:TransfersMax) and hold that many; nothing was applied. Raise the limit, or start the bank on a fresh database.");

    private static void Log(ILogger logger, TransferOrder order, TransferResult result)
    {
        switch (result)
        {
            case TransferResult.Recorded { Replayed: true } recorded:
                TransferLog.Replayed(logger, order.RequestId, recorded.Record.Status);
                break;
            case TransferResult.Recorded recorded:
                TransferLog.Recorded(logger, order.RequestId, order.AmountWon, order.From, order.To, recorded.Record.Status, recorded.Record.Reason);
                break;
            case TransferResult.RequestIdReused:
                TransferLog.RequestIdReused(logger, order.RequestId);
                break;
            case TransferResult.LedgerFull full:
                TransferLog.LedgerFull(logger, full.TransfersMax, order.RequestId);
                break;
        }
    }
}
