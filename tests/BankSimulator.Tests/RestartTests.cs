using System.Net.Http.Json;
using System.Text.Json;
using MyPay.Testing;

namespace MyPay.BankSimulator.Tests;

/// <summary>
/// The bank keeps its books across a restart, as a real bank does: a bank started again on the same database has
/// every balance, every transfer's recorded outcome by request id and its dedupe, and the corporate statement that
/// MyPay reconciles against. Before the books were kept in PostgreSQL, a restart came back with the seed only.
/// </summary>
public sealed class RestartTests
{
    [Fact]
    public async Task Restart_SameBooks_KeepsBalancesOutcomesDedupeAndTheCorporateStatement()
    {
        await using var books = new BankBooks();
        var payer = new BankAccount("004", "123401-04-567890"); // a seed account: 5,000,000 won at the first start
        var merchant = new BankAccount("020", "777-000-1");
        JsonElement recharge, refused, statement;
        await using (var first = new BankApp(books: books))
        {
            using var client = first.CreateClient();
            await client.OpenAsync(merchant.BankCode, merchant.AccountNumber, 0);
            recharge = await client.TransferOutcomeAsync("recharge:m1:0001", payer, BankAccount.Corporate, 30_000);
            await client.TransferOutcomeAsync("settle:m2:0001", BankAccount.Corporate, merchant, 10_000);
            refused = await client.TransferOutcomeAsync("recharge:m1:0002", merchant, BankAccount.Corporate, 999_999);
            using var closed = await client.SendJsonAsync(HttpMethod.Patch, merchant.Path, """{"status": "closed"}""");
            Assert.Equal(200, (int)closed.StatusCode);
            statement = await client.GetFromJsonAsync<JsonElement>("/corporate/statement");
        }

        await using var restarted = new BankApp(books: books);
        using var again = restarted.CreateClient();

        // Balances as the transfers left them (the seed does not top the payer up again), and the status change.
        Assert.Equal(5_000_000 - 30_000, await again.BalanceAsync(payer));
        Assert.Equal(30_000 - 300 - 10_000 - 300, await again.BalanceAsync(BankAccount.Corporate));
        var merchantNow = await again.GetAccountAsync(merchant);
        Assert.Equal(10_000, merchantNow.GetProperty("balance").GetInt64());
        Assert.Equal("closed", merchantNow.String("status"));

        // Each request id's recorded outcome, byte for byte, refusals included.
        using (var status = await again.GetAsync("/transfers/recharge:m1:0001"))
        {
            Assert.Equal(recharge.GetRawText(), (await status.Content.ReadFromJsonAsync<JsonElement>()).GetRawText());
        }

        Assert.Equal("failed", refused.String("status"));
        using (var status = await again.GetAsync("/transfers/recharge:m1:0002"))
        {
            Assert.Equal(refused.GetRawText(), (await status.Content.ReadFromJsonAsync<JsonElement>()).GetRawText());
        }

        // The dedupe: a repeat answers the first outcome and moves nothing; the id with another amount is refused.
        var repeat = await again.TransferOutcomeAsync("recharge:m1:0001", payer, BankAccount.Corporate, 30_000);
        Assert.Equal(recharge.GetRawText(), repeat.GetRawText());
        Assert.Equal(5_000_000 - 30_000, await again.BalanceAsync(payer));
        using (var reused = await again.TransferAsync("recharge:m1:0001", payer, BankAccount.Corporate, 40_000))
        {
            await reused.AssertProblemAsync(409, "request-id-reused");
        }

        // What MyPay reconciles corporate_cash against, line by line.
        Assert.Equal(statement.GetRawText(), (await again.GetFromJsonAsync<JsonElement>("/corporate/statement")).GetRawText());
    }

    [Fact]
    public async Task Restart_PastTransfersMax_StillRefusesNewTransfersButAnswersRepeats()
    {
        // The count of transfers is part of the books: a restart does not reset the bound.
        await using var books = new BankBooks();
        var settings = new Dictionary<string, string?> { ["Bank:TransfersMax"] = "1" };
        var from = new BankAccount("004", "123401-04-567890");
        var to = new BankAccount("088", "110-482-937165");
        JsonElement first;
        await using (var bank = new BankApp(settings, books))
        {
            using var client = bank.CreateClient();
            first = await client.TransferOutcomeAsync("only", from, to, 10);
        }

        await using var restarted = new BankApp(settings, books);
        using var again = restarted.CreateClient();

        using var second = await again.TransferAsync("second", from, to, 10);
        await second.AssertProblemAsync(503, "ledger-full");
        Assert.Equal(first.GetRawText(), (await again.TransferOutcomeAsync("only", from, to, 10)).GetRawText());
    }
}
