using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using MyPay.Testing;

namespace MyPay.EndToEnd.Tests;

/// <summary>
/// Requests to MyPay's HTTP API as a signed-in member or the operator, shared by the end-to-end tests. Each is an
/// extension of <see cref="HttpClient"/>, so it goes to one node or through nginx alike; the <see cref="BuiltProcess"/>
/// ones send it to that node.
/// </summary>
public static class NodeRequests
{
    /// <summary>Every member the tests register signs in with this.</summary>
    public const string MemberPassword = "correct horse battery";

    /// <summary>Registers a member (a customer unless <paramref name="type"/> says merchant) and returns their id and a bearer token.</summary>
    public static async Task<(string Id, string Token)> RegisterAsync(
        this HttpClient client, string password = MemberPassword, string type = "customer", string address = "부산광역시")
    {
        var email = $"{Guid.NewGuid():N}@example.com";
        using var registered = await client.PostAsJsonAsync("/v1/members", new { type, name = "홍길동", email, address, password });
        registered.EnsureSuccessStatusCode();
        var id = (await registered.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        return (id, await client.TokenAsync(email, password));
    }

    /// <summary>Signs in and returns the access token; anything but a 2xx fails the test.</summary>
    public static async Task<string> TokenAsync(this HttpClient client, string username, string password)
    {
        using var signedIn = await client.PostAsJsonAsync("/v1/auth/token", new { username, password });
        signedIn.EnsureSuccessStatusCode();
        return (await signedIn.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("accessToken").GetString()!;
    }

    /// <summary>Sends <paramref name="body"/> as JSON with the member's bearer token, and the idempotency key when one is given.</summary>
    public static async Task<HttpResponseMessage> SendAsync(
        this HttpClient client, string token, HttpMethod method, string path, object body, string? idempotencyKey = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = JsonContent.Create(body) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        if (idempotencyKey is not null)
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        }

        return await client.SendAsync(request);
    }

    /// <summary>GETs <paramref name="path"/> with the bearer token; anything but a 2xx fails the test with the answer.</summary>
    public static async Task<JsonElement> GetJsonAsync(this HttpClient client, string token, string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await client.SendAsync(request);
        Assert.True(response.IsSuccessStatusCode, $"GET {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    /// <summary>The member's wallet balance, as its wallet grain holds it.</summary>
    public static async Task<long> BalanceAsync(this HttpClient client, string memberId, string token) =>
        (await client.GetJsonAsync(token, $"/v1/members/{memberId}/wallet")).GetProperty("balance").GetInt64();

    /// <summary>
    /// Waits (up to 30 s) until the wallet holds at least <paramref name="balanceWon"/>: a recharge the bank answers
    /// after the node's synchronous wait completes in the background. Set-up, so a wallet that never gets there fails.
    /// </summary>
    public static async Task UntilBalanceAsync(this HttpClient client, string memberId, string token, long balanceWon)
    {
        for (var attempt = 0; attempt < 300 && await client.BalanceAsync(memberId, token) < balanceWon; attempt++)
        {
            await Task.Delay(100);
        }

        Assert.True(await client.BalanceAsync(memberId, token) >= balanceWon, $"The wallet of {memberId} never held {balanceWon} won.");
    }

    /// <summary>
    /// Opens an account at the bank simulator holding <paramref name="balanceWon"/>, in the member's name, and links
    /// it to the member, so recharges can draw on it (or settlements pay into it). Returns the account number (at bank 004).
    /// </summary>
    public static async Task<string> LinkNewBankAccountAsync(this HttpClient client, HttpClient bank, string memberId, string token, long balanceWon)
    {
        var accountNumber = $"777-{Random.Shared.Next(1000, 9999)}-{Random.Shared.Next(100_000, 999_999)}";
        using (var opened = await bank.PostAsJsonAsync("/accounts", new { bankCode = "004", accountNumber, holderName = "홍길동", balance = balanceWon }))
        {
            opened.EnsureSuccessStatusCode();
        }

        using var linked = await client.SendAsync(token, HttpMethod.Post, $"/v1/members/{memberId}/bank-accounts", new { bankCode = "004", accountNumber });
        linked.EnsureSuccessStatusCode();
        return accountNumber;
    }

    /// <summary>Registers a customer with a linked account holding 10,000,000 won and recharges <paramref name="walletWon"/> into its wallet (waiting for it if the bank is slow); returns its id and token.</summary>
    public static async Task<(string Id, string Token)> RegisterWithWalletAsync(this HttpClient client, HttpClient bank, long walletWon)
    {
        var (id, token) = await client.RegisterAsync();
        await client.LinkNewBankAccountAsync(bank, id, token, balanceWon: 10_000_000);
        using var recharged = await client.SendAsync(token, HttpMethod.Post, $"/v1/members/{id}/wallet/recharge", new { amount = walletWon }, "seed");
        Assert.True(recharged.StatusCode is HttpStatusCode.OK or HttpStatusCode.Accepted, $"{(int)recharged.StatusCode}: {await recharged.Content.ReadAsStringAsync()}");

        // A node just started, on a busy machine, may hear from the bank after a test's short synchronous wait
        // (Recharge__SynchronousWait of 1 s): the recharge answers 202 and completes in the background. This is set-up.
        await client.UntilBalanceAsync(id, token, walletWon);
        Assert.Equal(walletWon, await client.BalanceAsync(id, token));
        return (id, token);
    }

    /// <summary>
    /// The operator's ledger check once nothing is in flight (polled for up to 10 s): balanced, every wallet agreeing
    /// with its postings, and <c>corporate_cash</c> matching the bank's corporate account.
    /// </summary>
    public static async Task AssertLedgerReconciledAsync(this HttpClient client, string operatorToken)
    {
        var check = default(JsonElement);
        for (var attempt = 0; attempt < 100; attempt++)
        {
            check = await client.GetJsonAsync(operatorToken, "/v1/ledger/check");
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

    /// <summary>Registers a member through the node; see <see cref="RegisterAsync(HttpClient, string, string, string)"/>.</summary>
    public static Task<(string Id, string Token)> RegisterAsync(this BuiltProcess node, string password = MemberPassword, string type = "customer") =>
        node.Client.RegisterAsync(password, type);

    public static Task<HttpResponseMessage> SendAsync(
        this BuiltProcess node, string token, HttpMethod method, string path, object body, string? idempotencyKey = null) =>
        node.Client.SendAsync(token, method, path, body, idempotencyKey);

    public static Task<JsonElement> GetAsync(this BuiltProcess node, string token, string path) => node.Client.GetJsonAsync(token, path);

    public static Task<long> BalanceAsync(this BuiltProcess node, string memberId, string token) => node.Client.BalanceAsync(memberId, token);

    public static Task<string> LinkNewBankAccountAsync(this BuiltProcess node, BuiltProcess bank, string memberId, string token, long balanceWon) =>
        node.Client.LinkNewBankAccountAsync(bank.Client, memberId, token, balanceWon);

    public static Task<(string Id, string Token)> RegisterWithWalletAsync(this BuiltProcess node, BuiltProcess bank, long walletWon) =>
        node.Client.RegisterWithWalletAsync(bank.Client, walletWon);

    /// <summary>A bearer token for the operator of the nodes <see cref="NodeProcess"/> starts.</summary>
    public static Task<string> OperatorTokenAsync(this HttpClient client) => client.TokenAsync("operator", NodeProcess.OperatorPassword);

    public static Task<string> OperatorTokenAsync(this BuiltProcess node) => node.Client.OperatorTokenAsync();

    public static async Task AssertLedgerReconciledAsync(this BuiltProcess node) =>
        await node.Client.AssertLedgerReconciledAsync(await node.OperatorTokenAsync());
}
