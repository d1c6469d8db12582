using System.Diagnostics;

namespace MyPay.LoadTest.Client;

/// <summary>
/// One identity's access token, signed in again when most of its lifetime has passed, so a run longer than the
/// node's token lifetime (1 hour by default) does not turn into 401s. Concurrent callers share one sign-in.
/// </summary>
public sealed class TokenKeeper(MyPayClient client, string username, string password) : IDisposable
{
    /// <summary>Part of the lifetime after which the token is renewed: a fifth is left for requests already under way.</summary>
    private const double RenewAfterLifetimeFraction = 0.8;

    private readonly SemaphoreSlim signingIn = new(1, 1);
    private volatile Issued? current;

    /// <summary>The subject of the last token: a member's id, or "operator".</summary>
    public string? Subject => current?.Subject;

    public async ValueTask<string> GetAsync(CancellationToken cancellationToken)
    {
        if (current is { } issued && Stopwatch.GetTimestamp() < issued.RenewAtTimestamp)
        {
            return issued.AccessToken;
        }

        await signingIn.WaitAsync(cancellationToken);
        try
        {
            if (current is { } renewed && Stopwatch.GetTimestamp() < renewed.RenewAtTimestamp)
            {
                return renewed.AccessToken;
            }

            var reply = await client.IssueTokenAsync(username, password, cancellationToken);
            if (reply.StatusCode != 200)
            {
                throw new SignInRefusedException(username, reply.StatusCode, reply.Outcome);
            }

            var token = reply.Read(LoadTestJson.Default.TokenResponse);
            var renewAfter = TimeSpan.FromSeconds(token.ExpiresIn * RenewAfterLifetimeFraction);
            current = new Issued(token.AccessToken, token.Subject, Stopwatch.GetTimestamp() + (long)(renewAfter.TotalSeconds * Stopwatch.Frequency));
            return token.AccessToken;
        }
        finally
        {
            signingIn.Release();
        }
    }

    public void Dispose() => signingIn.Dispose();

    private sealed record Issued(string AccessToken, string Subject, long RenewAtTimestamp);
}

/// <summary>The node refused a sign-in the load test needs (a wrong operator password, or a member it just registered).</summary>
public sealed class SignInRefusedException(string username, int statusCode, string outcome)
    : Exception($"Signing in as '{username}' was refused: {outcome}.")
{
    public string Username { get; } = username;

    /// <summary>The node's answer, or 0 when none came.</summary>
    public int StatusCode { get; } = statusCode;
}
