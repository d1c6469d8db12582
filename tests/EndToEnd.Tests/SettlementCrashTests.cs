using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using MyPay.Testing;

namespace MyPay.EndToEnd.Tests;

/// <summary>
/// Settlement with real processes (nodes, the bank simulator, PostgreSQL): a node killed after the bank paid a merchant
/// but before the payout was posted, and two nodes of one cluster settling on the same reminder and run at once. Each
/// merchant must be paid exactly once what it is owed, and the ledger must reconcile with the bank. Each test gets its
/// own database and bank.
/// </summary>
public sealed class SettlementCrashTests : IAsyncLifetime
{
    private const string MerchantBank = "004";

    private readonly PostgresDatabase database = new();

    public Task InitializeAsync() => database.InitializeAsync();

    public Task DisposeAsync() => database.DisposeAsync();

    [Fact]
    public async Task KilledBetweenTheBanksTransferAndThePosting_AfterRestartThePostingCompletes_AndNothingIsPaidTwice()
    {
        // Every answer from the merchant's bank is lost: the bank moves the money, MyPay never hears it, and the
        // settlement is left sending. The node is killed there. After a restart, with nobody running anything, the
        // merchant's reminder must ask the bank under the same request id, learn it was paid, and post it.
        Dictionary<string, string> fast = new() { ["Settlement__RetryInterval"] = "00:00:01", ["Bank__RetriesMax"] = "0" };
        await using var bank = await BuiltProcess.StartBankAsync();
        var node = await NodeProcess.StartAsync(database.ConnectionString, bank.BaseAddress, fast);
        string merchantId, accountNumber, requestId;
        try
        {
            var payer = await node.RegisterWithWalletAsync(bank, 100_000);
            (merchantId, var merchantToken) = await node.RegisterAsync(type: "merchant");
            accountNumber = await node.LinkNewBankAccountAsync(bank, merchantId, merchantToken, balanceWon: 0);
            await PayAsync(node, payer, merchantId, 10_000, "before-the-crash");
            await SetFaultsAsync(bank, new { lostResponseRate = 1.0 });

            var sending = SettlementOf(await RunAsync(node), merchantId);

            Assert.Equal("sending", sending.GetProperty("status").GetString());
            requestId = sending.GetProperty("firmbankingRequestId").GetString()!;
            await node.KillAsync();
        }
        finally
        {
            await node.DisposeAsync();
        }

        using (var cleared = await bank.Client.DeleteAsync(new Uri("/faults", UriKind.Relative)))
        {
            cleared.EnsureSuccessStatusCode();
        }

        // The bank paid the merchant (its answers were lost, not its transfers); MyPay has not posted it.
        Assert.Equal(9_750, await AccountBalanceAsync(bank, accountNumber));
        await using var restarted = await NodeProcess.StartAsync(database.ConnectionString, bank.BaseAddress, fast);
        var paid = await UntilAsync(restarted, merchantId, settlements => settlements.All(s => s.GetProperty("status").GetString() == "paid"));

        var settlement = Assert.Single(paid);
        Assert.Equal(requestId, settlement.GetProperty("firmbankingRequestId").GetString());
        Assert.Equal(9_750, await AccountBalanceAsync(bank, accountNumber));
        Assert.Equal("succeeded", (await bank.Client.GetFromJsonAsync<JsonElement>($"/transfers/{Uri.EscapeDataString(requestId)}")).GetProperty("status").GetString());
        await restarted.AssertLedgerReconciledAsync();

        // Running again pays nothing more.
        Assert.DoesNotContain((await RunAsync(restarted)).GetProperty("settlements").EnumerateArray(), s => s.GetProperty("merchantId").GetString() == merchantId);
        Assert.Equal(9_750, await AccountBalanceAsync(bank, accountNumber));
    }

    [Fact]
    public async Task TwoNodesOfOneCluster_SettlingOnTheSameReminderAndRunAtOnce_PayEachMerchantOncePerPeriod()
    {
        // Both nodes arm the reminder (every 2 s here) and are asked to run at the same moment; payments keep coming
        // between ticks, so several periods are settled by the reminder alone.
        Dictionary<string, string> settings = new()
        {
            ["MYPAY_CLUSTER_ID"] = "mypay-settlement-two-node",
            ["Settlement__Period"] = "00:00:02",
            ["Settlement__RetryInterval"] = "00:00:01",
        };
        await using var bank = await BuiltProcess.StartBankAsync();
        await using var first = await NodeProcess.StartAsync(database.ConnectionString, bank.BaseAddress, settings);
        await using var second = await NodeProcess.StartAsync(database.ConnectionString, bank.BaseAddress, settings, slot: "second");
        var payer = await first.RegisterWithWalletAsync(bank, 1_000_000);
        var merchants = new List<(string Id, string Token, string Account)>();
        for (var i = 0; i < 4; i++)
        {
            var (id, token) = await first.RegisterAsync(type: "merchant");
            merchants.Add((id, token, await second.LinkNewBankAccountAsync(bank, id, token, balanceWon: 0)));
        }

        var owed = merchants.ToDictionary(merchant => merchant.Id, _ => 0L);
        for (var round = 0; round < 3; round++)
        {
            foreach (var (merchant, i) in merchants.Select((merchant, i) => (merchant, i)))
            {
                owed[merchant.Id] += await PayAsync(round % 2 == 0 ? first : second, payer, merchant.Id, 1_000 * (i + 1), $"round-{round}-{i}");
            }

            if (round == 0)
            {
                await Task.WhenAll(RunAsync(first), RunAsync(second), RunAsync(first), RunAsync(second));
            }
            else
            {
                await Task.Delay(TimeSpan.FromSeconds(2.5));
            }
        }

        foreach (var (id, token, account) in merchants)
        {
            var settlements = await UntilAsync(first, id, settlements =>
                settlements.Sum(s => s.GetProperty("net").GetInt64()) == owed[id] && settlements.All(s => s.GetProperty("status").GetString() == "paid"), token);
            Assert.Equal(owed[id], await AccountBalanceAsync(bank, account));
            Assert.True(settlements.Count >= 2, $"Merchant {id} was settled {settlements.Count} time(s): the reminder settled no period after the run.");
            Assert.Equal(settlements.Count, settlements.Select(s => s.GetProperty("period").GetString()).Distinct().Count());
        }

        await first.AssertLedgerReconciledAsync();
    }

    /// <summary>Pays and returns what the merchant is owed for it.</summary>
    private static async Task<long> PayAsync(BuiltProcess node, (string Id, string Token) payer, string merchantId, long amountWon, string key)
    {
        using var paid = await node.SendAsync(payer.Token, HttpMethod.Post, "/v1/payments", new { merchantId, amount = amountWon }, key);
        Assert.Equal(HttpStatusCode.Created, paid.StatusCode);
        return (await paid.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("net").GetInt64();
    }

    private static async Task<JsonElement> RunAsync(BuiltProcess node)
    {
        using var response = await node.SendAsync(await node.OperatorTokenAsync(), HttpMethod.Post, "/v1/settlements/run", new { });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    private static JsonElement SettlementOf(JsonElement run, string merchantId) =>
        Assert.Single(run.GetProperty("settlements").EnumerateArray(), settlement => settlement.GetProperty("merchantId").GetString() == merchantId);

    /// <summary>Polls the merchant's settlements until <paramref name="done"/> holds (bounded: 45 s).</summary>
    private static async Task<List<JsonElement>> UntilAsync(BuiltProcess node, string merchantId, Func<List<JsonElement>, bool> done, string? token = null)
    {
        token ??= await node.OperatorTokenAsync();
        var settlements = new List<JsonElement>();
        for (var attempt = 0; attempt < 225; attempt++)
        {
            settlements = [.. (await node.GetAsync(token, $"/v1/merchants/{merchantId}/settlements")).EnumerateArray()];
            if (settlements.Count > 0 && done(settlements))
            {
                return settlements;
            }

            await Task.Delay(200);
        }

        throw new TimeoutException($"Merchant {merchantId}'s settlements did not settle within 45 s: {string.Join(", ", settlements)}\n{node.Output}");
    }

    private static async Task SetFaultsAsync(BuiltProcess bank, object faults)
    {
        using var faulty = await bank.Client.PutAsJsonAsync($"/faults/{MerchantBank}", faults);
        faulty.EnsureSuccessStatusCode();
    }

    private static async Task<long> AccountBalanceAsync(BuiltProcess bank, string accountNumber) =>
        (await bank.Client.GetFromJsonAsync<JsonElement>($"/banks/{MerchantBank}/accounts/{accountNumber}")).GetProperty("balance").GetInt64();
}
