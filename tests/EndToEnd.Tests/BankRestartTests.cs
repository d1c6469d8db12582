using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using MyPay.Testing;

namespace MyPay.EndToEnd.Tests;

/// <summary>
/// What <c>./mypay run</c> does after a crash: the bank simulator and the node, both killed with SIGKILL, start again,
/// the bank on its own books. The bank must come back with its accounts and transfers, so that <c>corporate_cash</c>
/// still reconciles against it; a bank that came back empty left the reconciliation failing for ever.
/// </summary>
public sealed class BankRestartTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>
{
    [Fact]
    public async Task BankAndNodeKilled_RestartedOnTheSameBooks_CorporateCashStillReconcilesAndRechargesGoOn()
    {
        await using var books = new BankBooks();
        string id, token;
        await using (var bank = await BuiltProcess.StartBankAsync(books))
        await using (var node = await NodeProcess.StartAsync(database.ConnectionString, bank.BaseAddress))
        {
            (id, token) = await node.RegisterWithWalletAsync(bank, walletWon: 50_000);
            await node.AssertLedgerReconciledAsync();
            await node.KillAsync();
            await bank.KillAsync();
        }

        await using var restartedBank = await BuiltProcess.StartBankAsync(books);
        await using var restartedNode = await NodeProcess.StartAsync(database.ConnectionString, restartedBank.BaseAddress);

        await restartedNode.AssertLedgerReconciledAsync();
        var reconciliation = await restartedNode.GetAsync(await restartedNode.OperatorTokenAsync(), "/v1/reconciliation");
        Assert.True(reconciliation.GetProperty("consistent").GetBoolean(), reconciliation.ToString());

        // The member's linked account is still at the bank, so the wallet goes on being recharged from it.
        using var recharged = await restartedNode.SendAsync(token, HttpMethod.Post, $"/v1/members/{id}/wallet/recharge", new { amount = 10_000 }, "after-restart");
        Assert.Equal(HttpStatusCode.OK, recharged.StatusCode);
        Assert.Equal(60_000, (await recharged.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("balance").GetInt64());
        await restartedNode.AssertLedgerReconciledAsync();
    }
}
