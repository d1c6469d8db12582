using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace MyPay.BankSimulator.Tests;

/// <summary>Small helpers so tests read as requests and expectations.</summary>
internal static class Http
{
    public const string ProblemTypeBase = "https://bank-simulator.mypay.example/problems/";

    public static Task<HttpResponseMessage> SendJsonAsync(
        this HttpClient client, HttpMethod method, string path, string json, CancellationToken cancellationToken = default) =>
        client.SendAsync(new HttpRequestMessage(method, path) { Content = new StringContent(json, Encoding.UTF8, "application/json") }, cancellationToken);

    public static Task<HttpResponseMessage> PostJsonAsync(this HttpClient client, string path, string json, CancellationToken cancellationToken = default) =>
        client.SendJsonAsync(HttpMethod.Post, path, json, cancellationToken);

    public static Task<HttpResponseMessage> OpenAccountAsync(
        this HttpClient client, BankAccount account, string holderName, long balanceWon, string status = "open") =>
        client.PostJsonAsync("/accounts", JsonSerializer.Serialize(new
        {
            bankCode = account.BankCode,
            accountNumber = account.AccountNumber,
            holderName,
            balance = balanceWon,
            status,
        }));

    /// <summary>Opens an account and asserts it was created.</summary>
    public static async Task<BankAccount> OpenAsync(this HttpClient client, string bankCode, string accountNumber, long balanceWon, string status = "open")
    {
        var account = new BankAccount(bankCode, accountNumber);
        using var response = await client.OpenAccountAsync(account, $"Holder {accountNumber}", balanceWon, status);
        Assert.Equal(201, (int)response.StatusCode);
        return account;
    }

    public static async Task<JsonElement> GetAccountAsync(this HttpClient client, BankAccount account)
    {
        using var response = await client.GetAsync(account.Path);
        Assert.Equal(200, (int)response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    public static async Task<long> BalanceAsync(this HttpClient client, BankAccount account) =>
        (await client.GetAccountAsync(account)).GetProperty("balance").GetInt64();

    public static string TransferBody(string requestId, BankAccount from, BankAccount to, long amountWon) => JsonSerializer.Serialize(new
    {
        requestId,
        from = new { bankCode = from.BankCode, accountNumber = from.AccountNumber },
        to = new { bankCode = to.BankCode, accountNumber = to.AccountNumber },
        amount = amountWon,
    });

    public static Task<HttpResponseMessage> TransferAsync(this HttpClient client, string requestId, BankAccount from, BankAccount to, long amountWon) =>
        client.PostJsonAsync("/transfers", TransferBody(requestId, from, to, amountWon));

    /// <summary>Sends a transfer, asserts a 200, and returns its outcome.</summary>
    public static async Task<JsonElement> TransferOutcomeAsync(this HttpClient client, string requestId, BankAccount from, BankAccount to, long amountWon)
    {
        using var response = await client.TransferAsync(requestId, from, to, amountWon);
        Assert.Equal(200, (int)response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    public static async Task<HttpResponseMessage> SetFaultsAsync(
        this HttpClient client, string bankCode, int latencyMs = 0, double errorRate = 0, double lostResponseRate = 0, int errorStatus = 503)
    {
        var response = await client.SendJsonAsync(
            HttpMethod.Put, $"/faults/{bankCode}", JsonSerializer.Serialize(new { latencyMs, errorRate, lostResponseRate, errorStatus }));
        Assert.Equal(200, (int)response.StatusCode);
        return response;
    }

    public static async Task ResetFaultsAsync(this HttpClient client)
    {
        using var response = await client.DeleteAsync("/faults");
        Assert.Equal(204, (int)response.StatusCode);
    }

    /// <summary>Asserts an <c>application/problem+json</c> response with this status and type, and returns its body.</summary>
    public static async Task<JsonElement> AssertProblemAsync(this HttpResponseMessage response, int status, string type)
    {
        Assert.Equal(status, (int)response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(status, problem.GetProperty("status").GetInt32());
        Assert.Equal(ProblemTypeBase + type, problem.GetProperty("type").GetString());
        return problem;
    }

    /// <summary>Asserts a 400 <c>invalid-request</c> naming exactly these fields.</summary>
    public static async Task<JsonElement> AssertInvalidAsync(this HttpResponseMessage response, params string[] fields)
    {
        var problem = await response.AssertProblemAsync(400, "invalid-request");
        var named = problem.GetProperty("errors").EnumerateObject().Select(error => error.Name).Order(StringComparer.Ordinal);
        Assert.Equal(fields.Order(StringComparer.Ordinal), named);
        return problem;
    }

    public static string String(this JsonElement element, string property) => element.GetProperty(property).GetString()!;
}
