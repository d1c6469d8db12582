using System.Diagnostics;
using System.Net.Sockets;
using System.Text.Json;

namespace MyPay.LoadTest.Client;

/// <summary>
/// Sends a request as a careful client would: an attempt that gets no answer, times out or gets a 5xx (or 429) is
/// sent again, unchanged and so with the same Idempotency-Key, after a growing, jittered pause. Latency is measured
/// from the first send to the final answer, pauses included: it is what the client waited.
/// </summary>
public sealed class HttpSender(HttpClient http, TimeSpan attemptTimeout)
{
    /// <summary>Attempts per request, the first included. Five attempts wait 0.4 to 0.75 s in pauses between them, plus the attempts themselves.</summary>
    public const int AttemptsMax = 5;

    private static readonly TimeSpan backoffFirst = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan backoffMax = TimeSpan.FromSeconds(1);

    /// <summary>Sends the request made by <paramref name="createRequest"/> (called once per attempt, as a request message is sent once).</summary>
    public async Task<Reply> SendAsync(Func<HttpRequestMessage> createRequest, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        for (var attempt = 1; ; attempt++)
        {
            var last = attempt == AttemptsMax;
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(attemptTimeout);
            try
            {
                using var request = createRequest();
                using var response = await http.SendAsync(request, HttpCompletionOption.ResponseContentRead, timeout.Token);
                var body = await response.Content.ReadAsStringAsync(timeout.Token);
                var status = (int)response.StatusCode;
                if (last || !IsRetryable(status))
                {
                    return new Reply(status, status >= 400 ? ProblemTypeOf(body) : null, body, attempt - 1, MicrosecondsSince(started));
                }
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                if (last)
                {
                    return new Reply(0, null, "", attempt - 1, MicrosecondsSince(started), "timeout");
                }
            }
            catch (HttpRequestException exception)
            {
                if (last)
                {
                    return new Reply(0, null, "", attempt - 1, MicrosecondsSince(started), NetworkFailure(exception));
                }
            }

            await Task.Delay(Backoff(attempt), cancellationToken);
        }
    }

    private static bool IsRetryable(int status) => status is >= 500 or 429 or 408;

    /// <summary>Exponential from 50 ms, capped at 1 s, with full jitter so retries of many workers do not arrive together.</summary>
    private static TimeSpan Backoff(int attempt)
    {
        var ceiling = Math.Min(backoffMax.TotalMilliseconds, backoffFirst.TotalMilliseconds * Math.Pow(2, attempt - 1));
        return TimeSpan.FromMilliseconds(ceiling * (0.5 + (Random.Shared.NextDouble() / 2)));
    }

    private static long MicrosecondsSince(long started) => (long)Stopwatch.GetElapsedTime(started).TotalMicroseconds;

    private static string NetworkFailure(HttpRequestException exception) => exception.InnerException switch
    {
        SocketException socket => $"network ({socket.SocketErrorCode})",
        _ => $"network ({exception.HttpRequestError})",
    };

    /// <summary>The last segment of a problem's <c>type</c> URI ("insufficient-funds"), or null when the body is not a problem.</summary>
    internal static string? ProblemTypeOf(string body)
    {
        if (body.Length == 0 || body[0] != '{')
        {
            return null;
        }

        try
        {
            var problem = JsonSerializer.Deserialize(body, LoadTestJson.Default.Problem);
            var type = problem?.Type;
            return string.IsNullOrEmpty(type) ? null : type[(type.LastIndexOf('/') + 1)..];
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
