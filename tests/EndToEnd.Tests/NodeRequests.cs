using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using MyPay.Testing;

namespace MyPay.EndToEnd.Tests;

/// <summary>Requests to a node process's HTTP API as a signed-in member or the operator, shared by the end-to-end tests.</summary>
public static class NodeRequests
{
    /// <summary>Sends <paramref name="body"/> as JSON with the member's bearer token, and the idempotency key when one is given.</summary>
    public static async Task<HttpResponseMessage> SendAsync(
        this BuiltProcess node, string token, HttpMethod method, string path, object body, string? idempotencyKey = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = JsonContent.Create(body) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        if (idempotencyKey is not null)
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        }

        return await node.Client.SendAsync(request);
    }

    /// <summary>GETs <paramref name="path"/> with the bearer token; anything but a 2xx fails the test with the answer.</summary>
    public static async Task<JsonElement> GetAsync(this BuiltProcess node, string token, string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await node.Client.SendAsync(request);
        Assert.True(response.IsSuccessStatusCode, $"GET {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    /// <summary>The member's wallet balance, as the node's wallet grain holds it.</summary>
    public static async Task<long> BalanceAsync(this BuiltProcess node, string memberId, string token) =>
        (await node.GetAsync(token, $"/v1/members/{memberId}/wallet")).GetProperty("balance").GetInt64();

    /// <summary>
    /// Opens an account at the bank simulator holding <paramref name="balanceWon"/>, in the member's name, and links
    /// it to the member through <paramref name="node"/>, so recharges can draw on it (or settlements pay into it).
    /// Returns the account number (at bank 004).
    /// </summary>
    public static async Task<string> LinkNewBankAccountAsync(this BuiltProcess node, BuiltProcess bank, string memberId, string token, long balanceWon)
    {
        var accountNumber = $"777-{Random.Shared.Next(1000, 9999)}-{Random.Shared.Next(100_000, 999_999)}";
        using (var opened = await bank.Client.PostAsJsonAsync("/accounts", new { bankCode = "004", accountNumber, holderName = "홍길동", balance = balanceWon }))
        {
            opened.EnsureSuccessStatusCode();
        }

        using var linked = await node.SendAsync(token, HttpMethod.Post, $"/v1/members/{memberId}/bank-accounts", new { bankCode = "004", accountNumber });
        linked.EnsureSuccessStatusCode();
        return accountNumber;
    }

    /// <summary>Registers a customer with a linked account holding 10,000,000 won and recharges <paramref name="walletWon"/> into its wallet (waiting for it if the bank is slow); returns its id and token.</summary>
    public static async Task<(string Id, string Token)> RegisterWithWalletAsync(this BuiltProcess node, BuiltProcess bank, long walletWon)
    {
        var (id, token) = await node.RegisterAsync();
        await node.LinkNewBankAccountAsync(bank, id, token, balanceWon: 10_000_000);
        using var recharged = await node.SendAsync(token, HttpMethod.Post, $"/v1/members/{id}/wallet/recharge", new { amount = walletWon }, "seed");
        Assert.True(recharged.StatusCode is HttpStatusCode.OK or HttpStatusCode.Accepted, $"{(int)recharged.StatusCode}: {await recharged.Content.ReadAsStringAsync()}");

        // A node just started, on a busy machine, may hear from the bank after a test's short synchronous wait
        // (Recharge__SynchronousWait of 1 s): the recharge answers 202 and completes in the background. This is set-up.
        for (var attempt = 0; attempt < 300 && await node.BalanceAsync(id, token) < walletWon; attempt++)
        {
            await Task.Delay(100);
        }

        Assert.Equal(walletWon, await node.BalanceAsync(id, token));
        return (id, token);
    }

    /// <summary>A bearer token for the operator.</summary>
    public static async Task<string> OperatorTokenAsync(this BuiltProcess node)
    {
        using var signedIn = await node.Client.PostAsJsonAsync("/v1/auth/token", new { username = "operator", password = NodeProcess.OperatorPassword });
        signedIn.EnsureSuccessStatusCode();
        return (await signedIn.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("accessToken").GetString()!;
    }

    /// <summary>
    /// The operator's ledger check once nothing is in flight (polled for up to 10 s): balanced, every wallet agreeing
    /// with its postings, and <c>corporate_cash</c> matching the bank's corporate account.
    /// </summary>
    public static async Task AssertLedgerReconciledAsync(this BuiltProcess node)
    {
        var token = await node.OperatorTokenAsync();
        var check = default(JsonElement);
        for (var attempt = 0; attempt < 100; attempt++)
        {
            check = await node.GetAsync(token, "/v1/ledger/check");
            if (check.GetProperty("remittancesInFlight").GetInt64() == 0 && check.GetProperty("rechargesInFlight").GetInt64() == 0
                && check.GetProperty("settlementsInFlight").GetInt64() == 0)
            {
                break;
            }

            await Task.Delay(100);
        }

        Assert.True(check.GetProperty("consistent").GetBoolean(), check.ToString());
        Assert.Equal(0, check.GetProperty("total").GetInt64());
        Assert.Equal(0, check.GetProperty("remittancesInFlight").GetInt64());
        Assert.True(check.GetProperty("corporateMatchesBank").GetBoolean(), check.ToString());
    }
}
