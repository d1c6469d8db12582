using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using MyPay.LoadTest.Running;

namespace MyPay.LoadTest.Client;

/// <summary>
/// MyPay's HTTP API, as far as the load test uses it. Every call goes through the retrying sender. Payments and wallet
/// balances go to <paramref name="payUrl"/> (the node unless a run says otherwise: the bench's one-transaction-per-request
/// peer takes payments in the node's place and keeps the balances they move); everything else to the node.
/// </summary>
public sealed class MyPayClient(HttpSender sender, Uri nodeUrl, Uri payUrl)
{
    public const string IdempotencyKeyHeader = "Idempotency-Key";

    /// <summary>Everything, payments included, to the node.</summary>
    public MyPayClient(HttpSender sender, Uri nodeUrl)
        : this(sender, nodeUrl, nodeUrl)
    {
    }

    public Task<Reply> RegisterAsync(RegisterRequest request, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Post, "v1/members", token: null, idempotencyKey: null, request, LoadTestJson.Default.RegisterRequest, cancellationToken);

    public Task<Reply> IssueTokenAsync(string username, string password, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Post, "v1/auth/token", token: null, idempotencyKey: null, new TokenRequest(username, password), LoadTestJson.Default.TokenRequest, cancellationToken);

    public Task<Reply> LinkBankAccountAsync(string memberId, string token, LinkRequest request, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Post, $"v1/members/{memberId}/bank-accounts", token, idempotencyKey: null, request, LoadTestJson.Default.LinkRequest, cancellationToken);

    public Task<Reply> RechargeAsync(string memberId, string token, long amountWon, string idempotencyKey, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Post, $"v1/members/{memberId}/wallet/recharge", token, idempotencyKey, new RechargeRequest(amountWon), LoadTestJson.Default.RechargeRequest, cancellationToken);

    public Task<Reply> PayAsync(string token, string merchantId, long amountWon, string idempotencyKey, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Post, new Uri(payUrl, "v1/payments"), token, idempotencyKey, new PayRequest(merchantId, amountWon), LoadTestJson.Default.PayRequest, cancellationToken);

    /// <summary>Sends the recharge or payment <paramref name="request"/> describes, under its Idempotency-Key, as the customer whose token is given.</summary>
    public Task<Reply> SendAsync(SentRequest request, string token, CancellationToken cancellationToken) => request.Kind == RequestKind.Recharge
        ? RechargeAsync(request.CustomerId, token, request.AmountWon, request.IdempotencyKey, cancellationToken)
        : PayAsync(token, request.MerchantId!, request.AmountWon, request.IdempotencyKey, cancellationToken);

    public Task<Reply> GetRechargeAsync(string token, string rechargeId, CancellationToken cancellationToken) =>
        GetAsync($"v1/recharges/{Uri.EscapeDataString(rechargeId)}", token, cancellationToken);

    public Task<Reply> GetPaymentAsync(string token, string paymentId, CancellationToken cancellationToken) =>
        GetAsync($"v1/payments/{Uri.EscapeDataString(paymentId)}", token, cancellationToken);

    public Task<Reply> GetWalletAsync(string token, string memberId, CancellationToken cancellationToken) =>
        GetAsync(new Uri(payUrl, $"v1/members/{memberId}/wallet"), token, cancellationToken);

    /// <summary>One page of a wallet's history, newest first; <paramref name="cursor"/> is the previous page's <c>nextCursor</c>.</summary>
    public Task<Reply> GetHistoryPageAsync(string token, string memberId, int limit, string? cursor, CancellationToken cancellationToken) =>
        GetAsync(
            cursor is null ? $"v1/members/{memberId}/wallet/history?limit={limit}" : $"v1/members/{memberId}/wallet/history?limit={limit}&cursor={Uri.EscapeDataString(cursor)}",
            token,
            cancellationToken);

    public Task<Reply> CheckLedgerAsync(string operatorToken, CancellationToken cancellationToken) => GetAsync("v1/ledger/check", operatorToken, cancellationToken);

    private Task<Reply> GetAsync(string path, string token, CancellationToken cancellationToken) => GetAsync(new Uri(nodeUrl, path), token, cancellationToken);

    private Task<Reply> GetAsync(Uri url, string token, CancellationToken cancellationToken) => sender.SendAsync(
        () => Create(HttpMethod.Get, url, token, idempotencyKey: null, content: null),
        cancellationToken);

    private Task<Reply> SendAsync<T>(
        HttpMethod method, string path, string? token, string? idempotencyKey, T body, JsonTypeInfo<T> type, CancellationToken cancellationToken) =>
        SendAsync(method, new Uri(nodeUrl, path), token, idempotencyKey, body, type, cancellationToken);

    private Task<Reply> SendAsync<T>(
        HttpMethod method, Uri url, string? token, string? idempotencyKey, T body, JsonTypeInfo<T> type, CancellationToken cancellationToken)
    {
        // Serialized once: every attempt sends the same bytes, as a retry with the same key must.
        var bytes = JsonSerializer.SerializeToUtf8Bytes(body, type);
        return sender.SendAsync(() => Create(method, url, token, idempotencyKey, bytes), cancellationToken);
    }

    private static HttpRequestMessage Create(HttpMethod method, Uri url, string? token, string? idempotencyKey, byte[]? content)
    {
        var request = new HttpRequestMessage(method, url);
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        if (idempotencyKey is not null)
        {
            request.Headers.Add(IdempotencyKeyHeader, idempotencyKey);
        }

        if (content is not null)
        {
            request.Content = new ByteArrayContent(content);
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        }

        return request;
    }
}
