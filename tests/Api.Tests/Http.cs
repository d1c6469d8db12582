using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace MyPay.Api.Tests;

/// <summary>Small helpers so tests read as requests and expectations.</summary>
internal static class Http
{
    public static async Task<HttpResponseMessage> RechargeAsync(this HttpClient client, string memberId, string jsonBody, string? idempotencyKey)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/members/{memberId}/wallet/recharge")
        {
            Content = new StringContent(jsonBody, Encoding.UTF8, "application/json"),
        };
        if (idempotencyKey is not null)
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        }

        return await client.SendAsync(request);
    }

    public static Task<HttpResponseMessage> RechargeAsync(this HttpClient client, string memberId, long amountWon, string? idempotencyKey) =>
        client.RechargeAsync(memberId, $$"""{"amount":{{amountWon}}}""", idempotencyKey);

    public static async Task<HttpResponseMessage> PayAsync(this HttpClient client, string merchantId, long amountWon, string? idempotencyKey, string? orderId = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/payments") { Content = JsonContent.Create(new { merchantId, amount = amountWon, orderId }) };
        if (idempotencyKey is not null)
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        }

        return await client.SendAsync(request);
    }

    /// <summary>Sends money to another member, under an Idempotency-Key.</summary>
    public static async Task<HttpResponseMessage> SendToMemberAsync(this HttpClient client, string recipientId, long amountWon, string idempotencyKey)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/remittances") { Content = JsonContent.Create(new { toMemberId = recipientId, amount = amountWon }) };
        request.Headers.Add("Idempotency-Key", idempotencyKey);
        return await client.SendAsync(request);
    }

    /// <summary>Refunds part or all of a payment (as its merchant or an operator), under an Idempotency-Key.</summary>
    public static async Task<HttpResponseMessage> RefundAsync(this HttpClient client, string paymentId, long amountWon, string idempotencyKey)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/payments/{paymentId}/refunds") { Content = JsonContent.Create(new { amount = amountWon }) };
        request.Headers.Add("Idempotency-Key", idempotencyKey);
        return await client.SendAsync(request);
    }

    public static async Task<long> BalanceAsync(this HttpClient client, string memberId)
    {
        var wallet = await client.GetFromJsonAsync<JsonElement>($"/v1/members/{memberId}/wallet");
        return wallet.GetProperty("balance").GetInt64();
    }

    /// <summary>Asserts an <c>application/problem+json</c> response with this status and one of MyPay's types, and returns its body.</summary>
    public static async Task<JsonElement> AssertProblemAsync(this HttpResponseMessage response, int status)
    {
        Assert.Equal(status, (int)response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(status, problem.GetProperty("status").GetInt32());
        Assert.StartsWith(MyPay.Api.Hosting.Problems.TypeBase, problem.ProblemType(), StringComparison.Ordinal);
        return problem;
    }

    public static string ProblemType(this JsonElement problem) => problem.GetProperty("type").GetString()!;
}
