using System.ComponentModel.DataAnnotations;

namespace MyPay.Api.Banking;

/// <summary>How the node reaches the banks. Bound from the <c>Bank</c> section; the address also from <c>MYPAY_BANK_URL</c>.</summary>
public sealed class BankOptions
{
    public const string SectionName = "Bank";
    public const string UrlVariable = "MYPAY_BANK_URL";

    /// <summary>The bank simulator's (or a real gateway's) address. Default http://127.0.0.1:5090, where <c>./mypay run</c> starts it.</summary>
    [Required]
    public Uri BaseUrl { get; set; } = new("http://127.0.0.1:5090");

    /// <summary>How long one HTTP attempt may take. Default 5 s: a bank answers in well under a second, or is in trouble.</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:01:00")]
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Retries of one call after a transient failure (5xx, no answer). Default 3; safe for transfers because the request id is reused.</summary>
    [Range(0, 10)]
    public int RetriesMax { get; set; } = 3;

    /// <summary>First retry delay, doubled each time, with jitter. Default 100 ms.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:00:10")]
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// Share of failed calls, over 10 s and at least 50 calls, that opens the circuit for <see cref="BreakDuration"/>.
    /// Default 0.7: a bank failing one call in three is still worth calling (retries get through); one failing
    /// nearly every call is not, and callers should fail fast instead of queueing behind timeouts.
    /// </summary>
    [Range(0.1, 1.0)]
    public double CircuitBreakerFailureRatio { get; set; } = 0.7;

    /// <summary>How long an open circuit refuses calls before trying again. Default 2 s.</summary>
    [Range(typeof(TimeSpan), "00:00:00.500", "00:05:00")]
    public TimeSpan BreakDuration { get; set; } = TimeSpan.FromSeconds(2);
}
