namespace MyPay.BankSimulator.Faults;

/// <summary>
/// The faults one bank injects into the requests that involve it. Rates are probabilities from 0 to 1,
/// drawn per request: first whether the bank errs (answered with <c>ErrorStatus</c>, nothing applied),
/// then, when it did not, whether the answer is lost (applied, then the connection is dropped).
/// </summary>
public sealed record FaultSettings(int LatencyMs, double ErrorRate, double LostResponseRate, int ErrorStatus = StatusCodes.Status503ServiceUnavailable)
{
    /// <summary>Longest injected delay per bank, in milliseconds: one minute, past any client's timeout worth testing.</summary>
    public const int LatencyMsMax = 60_000;

    /// <summary>
    /// What an injected error answers: 503 (the bank is down), 429 (it throttles the client) or 408 (it gave up
    /// waiting for the request). Each means nothing was applied; a client must treat them alike.
    /// </summary>
    public static IReadOnlyList<int> ErrorStatuses { get; } =
        [StatusCodes.Status503ServiceUnavailable, StatusCodes.Status429TooManyRequests, StatusCodes.Status408RequestTimeout];

    public static FaultSettings None { get; } = new(0, 0, 0);
}

/// <summary>What a request suffers, and the status it is answered with when the fault is an error.</summary>
public readonly record struct Injection(InjectedFault Fault, int ErrorStatus);

/// <summary>What a request suffers after its latency.</summary>
public enum InjectedFault
{
    None,

    /// <summary>Answer the erring bank's error status (503 <c>bank-unavailable</c> unless set otherwise) and apply nothing.</summary>
    BankUnavailable,

    /// <summary>Apply the request, then drop the connection instead of answering.</summary>
    LostResponse,
}

/// <summary>The body of <c>PUT /faults/{bankCode}</c>. An absent field is 0 (503 for the error status): the PUT replaces them all.</summary>
public sealed record FaultRequest(int? LatencyMs, double? ErrorRate, double? LostResponseRate, int? ErrorStatus);

public sealed record FaultResponse(string BankCode, int LatencyMs, double ErrorRate, double LostResponseRate, int ErrorStatus)
{
    public static FaultResponse Of(string bankCode, FaultSettings settings) =>
        new(bankCode, settings.LatencyMs, settings.ErrorRate, settings.LostResponseRate, settings.ErrorStatus);
}
