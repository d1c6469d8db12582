namespace MyPay.BankSimulator.Faults;

public static partial class FaultLog
{
    [LoggerMessage(Level = LogLevel.Information, Message = "Faults of bank {BankCode} set: latency {LatencyMs} ms, error rate {ErrorRate} (answered {ErrorStatus}), lost-response rate {LostResponseRate}")]
    public static partial void FaultsSet(ILogger logger, string bankCode, int latencyMs, double errorRate, int errorStatus, double lostResponseRate);

    [LoggerMessage(Level = LogLevel.Information, Message = "Faults of every bank reset")]
    public static partial void FaultsReset(ILogger logger);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Injecting {Fault} after {LatencyMs} ms into a request to banks {BankCodes}")]
    public static partial void FaultInjected(ILogger logger, InjectedFault fault, int latencyMs, IReadOnlyCollection<string> bankCodes);
}
