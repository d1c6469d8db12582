namespace MyPay.BankSimulator.Faults;

/// <summary>
/// The faults one bank injects into the requests that involve it. Rates are probabilities from 0 to 1,
/// drawn per request: first whether the bank errs (503, nothing applied), then, when it did not,
/// whether the answer is lost (applied, then the connection is dropped).
/// </summary>
public sealed record FaultSettings(int LatencyMs, double ErrorRate, double LostResponseRate)
{
    /// <summary>Longest injected delay per bank, in milliseconds: one minute, past any client's timeout worth testing.</summary>
    public const int LatencyMsMax = 60_000;

    public static FaultSettings None { get; } = new(0, 0, 0);
}

/// <summary>What a request suffers after its latency.</summary>
public enum InjectedFault
{
    None,

    /// <summary>Answer 503 <c>bank-unavailable</c> and apply nothing.</summary>
    BankUnavailable,

    /// <summary>Apply the request, then drop the connection instead of answering.</summary>
    LostResponse,
}

/// <summary>The body of <c>PUT /faults/{bankCode}</c>. An absent field is 0: the PUT replaces all three.</summary>
public sealed record FaultRequest(int? LatencyMs, double? ErrorRate, double? LostResponseRate);

public sealed record FaultResponse(string BankCode, int LatencyMs, double ErrorRate, double LostResponseRate)
{
    public static FaultResponse Of(string bankCode, FaultSettings settings) =>
        new(bankCode, settings.LatencyMs, settings.ErrorRate, settings.LostResponseRate);
}
