using System.Net;
using MyPay.Grains.Banking;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace MyPay.Api.Banking;

/// <summary>
/// The banks over HTTP, through a Polly pipeline: per-attempt timeout, bounded retries with
/// exponential backoff and jitter, and a circuit breaker. A transfer is retried under its own request
/// id, which the bank dedupes; when no answer comes, the outcome is Unknown, never Failed.
/// </summary>
public sealed partial class HttpBankGateway(HttpClient http, BankPipeline pipeline, ILogger<HttpBankGateway> logger) : IBankGateway
{
    public async Task<AccountLookup> LookUpAccountAsync(BankAccountNumber account, CancellationToken cancellationToken)
    {
        var path = $"banks/{Uri.EscapeDataString(account.BankCode)}/accounts/{Uri.EscapeDataString(account.AccountNumber)}";
        try
        {
            using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Get, path), cancellationToken);
            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                return new AccountLookup(AccountLookupStatus.NotFound, null);
            }

            if (!response.IsSuccessStatusCode)
            {
                return new AccountLookup(AccountLookupStatus.BankUnavailable, null);
            }

            var found = await response.Content.ReadFromJsonAsync<AccountBody>(cancellationToken);
            return new AccountLookup(found?.Status == "open" ? AccountLookupStatus.Open : AccountLookupStatus.Closed, found?.HolderName, found?.Balance);
        }
        catch (Exception exception) when (IsUnanswered(exception))
        {
            LogUnanswered(logger, "account lookup", account.ToString(), exception.Message);
            return new AccountLookup(AccountLookupStatus.BankUnavailable, null);
        }
    }

    public async Task<TransferOutcome> TransferAsync(BankTransfer transfer, CancellationToken cancellationToken)
    {
        var body = new TransferBody(
            transfer.RequestId,
            new AccountRef(transfer.From.BankCode, transfer.From.AccountNumber),
            new AccountRef(transfer.To.BankCode, transfer.To.AccountNumber),
            transfer.AmountWon);
        try
        {
            using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Post, "transfers") { Content = JsonContent.Create(body) }, cancellationToken);
            return await ReadOutcomeAsync(response, transfer.RequestId, cancellationToken);
        }
        catch (Exception exception) when (IsUnanswered(exception))
        {
            LogUnanswered(logger, "transfer", transfer.RequestId, exception.Message);
            return TransferOutcome.Unanswered(exception.Message);
        }
    }

    public async Task<TransferOutcome> GetTransferAsync(string requestId, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Get, $"transfers/{Uri.EscapeDataString(requestId)}"), cancellationToken);
            return response.StatusCode == HttpStatusCode.NotFound
                ? new TransferOutcome(TransferStatus.NotFound, null)
                : await ReadOutcomeAsync(response, requestId, cancellationToken);
        }
        catch (Exception exception) when (IsUnanswered(exception))
        {
            LogUnanswered(logger, "transfer status", requestId, exception.Message);
            return TransferOutcome.Unanswered(exception.Message);
        }
    }

    public async Task<CorporateStatement?> GetCorporateStatementAsync(CancellationToken cancellationToken)
    {
        try
        {
            using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Get, "corporate/statement"), cancellationToken);
            if (!response.IsSuccessStatusCode || await response.Content.ReadFromJsonAsync<StatementBody>(cancellationToken) is not { } statement)
            {
                return null;
            }

            return new CorporateStatement(statement.Balance, [.. statement.Lines.Select(line => new StatementLine(line.RequestId, line.Amount, line.Fee, line.CompletedAt))]);
        }
        catch (Exception exception) when (IsUnanswered(exception))
        {
            LogUnanswered(logger, "corporate statement", "the corporate account", exception.Message);
            return null;
        }
    }

    private async Task<HttpResponseMessage> SendAsync(Func<HttpRequestMessage> request, CancellationToken cancellationToken) =>
        await pipeline.Pipeline.ExecuteAsync(
            async (create, token) =>
            {
                using var message = create();
                return await http.SendAsync(message, token);
            },
            request,
            cancellationToken);

    /// <summary>
    /// A 200 carries the bank's recorded outcome. A transient answer left after the retries (5xx, 408, 429) is an
    /// answer we could not get: Unknown, resolved later by asking the bank for the request id's status. Any other
    /// status means MyPay sent something the bank could not accept (a reused id, a malformed body): a bug, so it
    /// throws rather than guess whether money moved.
    /// </summary>
    private static async Task<TransferOutcome> ReadOutcomeAsync(HttpResponseMessage response, string requestId, CancellationToken cancellationToken)
    {
        if (BankPipeline.IsTransient(response.StatusCode))
        {
            return TransferOutcome.Unanswered($"the bank answered {(int)response.StatusCode} after the retries");
        }

        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException(
                $"The bank refused transfer request {requestId} with {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(cancellationToken)}");
        }

        var outcome = await response.Content.ReadFromJsonAsync<TransferResultBody>(cancellationToken)
            ?? throw new InvalidOperationException($"The bank answered transfer request {requestId} with an empty body.");
        return outcome.Status switch
        {
            "succeeded" => new TransferOutcome(TransferStatus.Succeeded, null, outcome.Fee),
            "failed" => new TransferOutcome(TransferStatus.Failed, outcome.Reason ?? "refused by the bank"),
            _ => throw new InvalidOperationException($"The bank answered transfer request {requestId} with status '{outcome.Status}'."),
        };
    }

    private static bool IsUnanswered(Exception exception) =>
        exception is HttpRequestException or TimeoutRejectedException or BrokenCircuitException or IOException or TaskCanceledException;

    [LoggerMessage(Level = LogLevel.Warning, Message = "The bank did not answer a {Call} for {Subject}: {Reason}")]
    private static partial void LogUnanswered(ILogger logger, string call, string subject, string reason);

    private sealed record AccountRef(string BankCode, string AccountNumber);

    private sealed record TransferBody(string RequestId, AccountRef From, AccountRef To, long Amount);

    private sealed record TransferResultBody(string RequestId, string Status, string? Reason, long Fee);

    private sealed record StatementBody(long Balance, StatementLineBody[] Lines);

    private sealed record StatementLineBody(string RequestId, long Amount, long Fee, DateTimeOffset CompletedAt);

    private sealed record AccountBody(string BankCode, string AccountNumber, string HolderName, string Status, long? Balance);
}
