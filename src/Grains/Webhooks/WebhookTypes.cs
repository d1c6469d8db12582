using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Orleans;

namespace MyPay.Grains.Webhooks;

/// <summary>Where a merchant's events are POSTed, and the secret their signatures are made with.</summary>
[GenerateSerializer]
public sealed record WebhookEndpoint([property: Id(0)] Uri Url, [property: Id(1)] string Secret, [property: Id(2)] DateTimeOffset UpdatedAt)
{
    public const int SecretLengthMin = 16;
    public const int SecretLengthMax = 200;
    public const int UrlLengthMax = 2_000;

    /// <summary>Why a webhook cannot be registered as given, or null.</summary>
    public static string? Check(string? url, string? secret) =>
        url is null || url.Length > UrlLengthMax || !Uri.TryCreate(url, UriKind.Absolute, out var parsed) || parsed.Scheme is not ("http" or "https")
            ? $"url must be an absolute http or https URL of at most {UrlLengthMax} characters."
            : secret is null || secret.Length is < SecretLengthMin or > SecretLengthMax
                ? $"secret must be {SecretLengthMin} to {SecretLengthMax} characters."
                : null;
}

/// <summary>An event queued for a merchant's webhook.</summary>
public sealed record WebhookDelivery(string EventId, string Type, string Payload, DateTimeOffset OccurredAt, int Attempts);

/// <summary>How webhooks are delivered. Bound from the <c>Webhooks</c> section.</summary>
public sealed class WebhookOptions
{
    public const string SectionName = "Webhooks";

    /// <summary>The wait before the first retry after a failed delivery; it doubles with each failure. Default 1 s.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "01:00:00")]
    public TimeSpan RetryMin { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The longest wait between retries. Default 1 min.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "1.00:00:00")]
    public TimeSpan RetryMax { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How often a merchant with events still to deliver is woken up after a restart (its reminder). Default 1 min.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "1.00:00:00")]
    public TimeSpan ResumeInterval { get; set; } = TimeSpan.FromMinutes(1);
}

/// <summary>
/// The <c>MyPay-Signature</c> header: <c>t=&lt;unix seconds&gt;,v1=&lt;hex HMAC-SHA256 of "&lt;t&gt;.&lt;raw body&gt;" under the secret&gt;</c>.
/// A receiver recomputes v1 from the raw body and its copy of the secret, and refuses a t too far from its clock.
/// </summary>
public static class WebhookSignature
{
    public const string HeaderName = "MyPay-Signature";

    public static string Create(string secret, long unixSeconds, string body)
    {
        var t = unixSeconds.ToString(CultureInfo.InvariantCulture);
        var mac = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes($"{t}.{body}"));
        return $"t={t},v1={Convert.ToHexStringLower(mac)}";
    }
}

/// <summary>Sends one webhook request; true when the receiver answered 2xx.</summary>
public interface IWebhookSender
{
    Task<bool> SendAsync(Uri url, string body, string signature, CancellationToken cancellationToken);
}
