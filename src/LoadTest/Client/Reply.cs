using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace MyPay.LoadTest.Client;

/// <summary>
/// The final answer to one request, after any retries with the same Idempotency-Key. <see cref="StatusCode"/> is 0
/// when no answer came at all (the last attempt timed out or failed on the network).
/// </summary>
public sealed record Reply(int StatusCode, string? ProblemType, string Body, int Retries, long LatencyMicroseconds, string? Failure = null)
{
    private const int ExplanationLengthMax = 300;

    public bool IsSuccess => StatusCode is >= 200 and < 300;

    /// <summary>
    /// Whether the request may have been applied without the client knowing: no answer, or a 5xx after which
    /// the node may still finish it. Such a request must be in the ledger at most once.
    /// </summary>
    public bool IsUnknown => StatusCode is 0 or >= 500;

    /// <summary>How the answer is counted: "201", "422 insufficient-funds", "503 bank-unavailable", "timeout", "network (ConnectionRefused)".</summary>
    public string Outcome => StatusCode switch
    {
        0 => Failure ?? "no answer",
        _ when ProblemType is null => StatusCode.ToString(CultureInfo.InvariantCulture),
        _ => string.Create(CultureInfo.InvariantCulture, $"{StatusCode} {ProblemType}"),
    };

    /// <summary>What the answer says went wrong, for a person: the problem's <c>detail</c> (or title), the failure, or the start of the body.</summary>
    public string Explanation()
    {
        if (StatusCode == 0)
        {
            return Failure ?? "no answer";
        }

        try
        {
            if (Body.StartsWith('{') && JsonSerializer.Deserialize(Body, LoadTestJson.Default.Problem) is { } problem && (problem.Detail ?? problem.Title) is { } text)
            {
                return text;
            }
        }
        catch (JsonException)
        {
            // Not a problem document: the body itself says more than nothing.
        }

        return Body.Length > ExplanationLengthMax ? Body[..ExplanationLengthMax] : Body;
    }

    /// <summary>The body as <typeparamref name="T"/>; throws when the node answered something else, as that is a broken contract.</summary>
    public T Read<T>(JsonTypeInfo<T> type) =>
        JsonSerializer.Deserialize(Body, type) ?? throw new InvalidDataException($"The node answered {StatusCode} with a null body where a {typeof(T).Name} was expected.");
}
