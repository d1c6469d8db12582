using System.Net.Http.Json;
using System.Text.Json;

namespace MyPay.BankSimulator.Tests;

public sealed class TransferTests
{
    [Fact]
    public async Task Transfer_EnoughFunds_MovesExactlyTheAmount()
    {
        await using var bank = new BankApp();
        using var client = bank.CreateClient();
        var from = await client.OpenAsync("004", "100-1", 500_000);
        var to = await client.OpenAsync("088", "200-1", 20_000);

        var outcome = await client.TransferOutcomeAsync("t-1", from, to, 123_456);

        Assert.Equal("t-1", outcome.String("requestId"));
        Assert.Equal("succeeded", outcome.String("status"));
        Assert.Equal(JsonValueKind.Null, outcome.GetProperty("reason").ValueKind);
        Assert.Equal(123_456, outcome.GetProperty("amount").GetInt64());
        Assert.Equal("004", outcome.GetProperty("from").String("bankCode"));
        Assert.Equal("100-1", outcome.GetProperty("from").String("accountNumber"));
        Assert.Equal("088", outcome.GetProperty("to").String("bankCode"));
        Assert.Equal("200-1", outcome.GetProperty("to").String("accountNumber"));
        Assert.True(outcome.GetProperty("completedAt").GetDateTimeOffset() > DateTimeOffset.UtcNow.AddMinutes(-1));
        Assert.Equal(500_000 - 123_456, await client.BalanceAsync(from));
        Assert.Equal(20_000 + 123_456, await client.BalanceAsync(to));
    }

    [Fact]
    public async Task Transfer_WithinOneBank_MovesTheAmount()
    {
        await using var bank = new BankApp();
        using var client = bank.CreateClient();
        var from = await client.OpenAsync("090", "3333-1", 10_000);
        var to = await client.OpenAsync("090", "3333-2", 0);

        var outcome = await client.TransferOutcomeAsync("same-bank", from, to, 10_000);

        Assert.Equal("succeeded", outcome.String("status"));
        Assert.Equal(0, await client.BalanceAsync(from));
        Assert.Equal(10_000, await client.BalanceAsync(to));
    }

    [Fact]
    public async Task Transfer_ToCorporate_CreditsTheCorporateAccountLessTheFee()
    {
        // A recharge (충전) as MyPay sends it: from the member's linked account to MyPay's corporate account,
        // which pays the bank's fee for the command.
        await using var bank = new BankApp();
        using var client = bank.CreateClient();
        var member = await client.OpenAsync("004", "100-9", 50_000);

        var outcome = await client.TransferOutcomeAsync("recharge-1", member, BankAccount.Corporate, 30_000);

        var corporate = await client.GetFromJsonAsync<JsonElement>("/corporate");
        Assert.Equal(30_000 - 300, corporate.GetProperty("balance").GetInt64());
        Assert.Equal(300, outcome.GetProperty("fee").GetInt64());
    }

    [Fact]
    public async Task Transfer_FromCorporateThatCannotPayTheFee_FailsAndNothingMoves()
    {
        await using var bank = new BankApp();
        using var client = bank.CreateClient();
        var member = await client.OpenAsync("004", "100-8", 10_000);
        var recipient = await client.OpenAsync("020", "300-8", 0);
        await client.TransferOutcomeAsync("in", member, BankAccount.Corporate, 10_000);

        var outcome = await client.TransferOutcomeAsync("out", BankAccount.Corporate, recipient, 9_700);

        Assert.Equal("insufficient-funds", outcome.GetProperty("reason").GetString());
        Assert.Equal(0, outcome.GetProperty("fee").GetInt64());
        Assert.Equal(9_700, (await client.GetFromJsonAsync<JsonElement>("/corporate")).GetProperty("balance").GetInt64());
    }

    [Fact]
    public async Task CorporateStatement_ListsEveryTransferThatMovedItsMoney_SignedWithItsFee_OldestFirst()
    {
        await using var bank = new BankApp();
        using var client = bank.CreateClient();
        var member = await client.OpenAsync("004", "100-9", 100_000);
        var recipient = await client.OpenAsync("020", "200-9", 0);
        await client.TransferOutcomeAsync("in", member, BankAccount.Corporate, 50_000);
        await client.TransferOutcomeAsync("out", BankAccount.Corporate, recipient, 20_000);
        await client.TransferOutcomeAsync("refused", BankAccount.Corporate, recipient, 1_000_000);
        await client.TransferOutcomeAsync("elsewhere", member, recipient, 1_000);

        var statement = await client.GetFromJsonAsync<JsonElement>("/corporate/statement");

        var lines = statement.GetProperty("lines").EnumerateArray().Select(line => (line.String("requestId"), line.GetProperty("amount").GetInt64(), line.GetProperty("fee").GetInt64())).ToList();
        Assert.Equal([("in", 50_000L, 300L), ("out", -20_000L, 300L)], lines);
        Assert.Equal(50_000 - 300 - 20_000 - 300, statement.GetProperty("balance").GetInt64());
    }

    [Fact]
    public async Task Transfer_OneWonMoreThanTheBalance_FailsAndNothingMoves()
    {
        await using var bank = new BankApp();
        using var client = bank.CreateClient();
        var from = await client.OpenAsync("004", "100-1", 10_000);
        var to = await client.OpenAsync("088", "200-1", 0);

        var outcome = await client.TransferOutcomeAsync("too-much", from, to, 10_001);

        Assert.Equal("failed", outcome.String("status"));
        Assert.Equal("insufficient-funds", outcome.String("reason"));
        Assert.Equal(10_000, await client.BalanceAsync(from));
        Assert.Equal(0, await client.BalanceAsync(to));
    }

    [Theory]
    [InlineData("closed", "open")]
    [InlineData("open", "closed")]
    public async Task Transfer_ClosedAccount_FailsAndNothingMoves(string fromStatus, string toStatus)
    {
        await using var bank = new BankApp();
        using var client = bank.CreateClient();
        var from = await client.OpenAsync("004", "100-1", 10_000, fromStatus);
        var to = await client.OpenAsync("088", "200-1", 0, toStatus);

        var outcome = await client.TransferOutcomeAsync("closed", from, to, 1_000);

        Assert.Equal("failed", outcome.String("status"));
        Assert.Equal("account-closed", outcome.String("reason"));
        Assert.Equal(10_000, await client.BalanceAsync(from));
        Assert.Equal(0, await client.BalanceAsync(to));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Transfer_UnknownAccount_FailsAndNothingMoves(bool fromIsUnknown)
    {
        await using var bank = new BankApp();
        using var client = bank.CreateClient();
        var known = await client.OpenAsync("004", "100-1", 10_000);
        var unknown = new BankAccount("088", "404-404");

        var outcome = fromIsUnknown
            ? await client.TransferOutcomeAsync("unknown", unknown, known, 1_000)
            : await client.TransferOutcomeAsync("unknown", known, unknown, 1_000);

        Assert.Equal("failed", outcome.String("status"));
        Assert.Equal("unknown-account", outcome.String("reason"));
        Assert.Equal(10_000, await client.BalanceAsync(known));
    }

    [Fact]
    public async Task Transfer_UnknownBank_FailsWithUnknownBank()
    {
        await using var bank = new BankApp();
        using var client = bank.CreateClient();
        var from = await client.OpenAsync("004", "100-1", 10_000);

        var outcome = await client.TransferOutcomeAsync("no-bank", from, new BankAccount("999", "1"), 1_000);

        Assert.Equal("failed", outcome.String("status"));
        Assert.Equal("unknown-bank", outcome.String("reason"));
        Assert.Equal(10_000, await client.BalanceAsync(from));
    }

    [Fact]
    public async Task Transfer_CreditOverTheBalanceLimit_FailsAndNothingMoves()
    {
        await using var bank = new BankApp();
        using var client = bank.CreateClient();
        var from = await client.OpenAsync("004", "100-1", 10);
        var to = await client.OpenAsync("088", "200-1", 1_000_000_000_000_000);

        var outcome = await client.TransferOutcomeAsync("overflow", from, to, 1);

        Assert.Equal("balance-limit-exceeded", outcome.String("reason"));
        Assert.Equal(10, await client.BalanceAsync(from));
    }

    [Fact]
    public async Task Transfer_RepeatedRequestId_ReturnsTheFirstOutcomeAndMovesOnce()
    {
        await using var bank = new BankApp();
        using var client = bank.CreateClient();
        var from = await client.OpenAsync("004", "100-1", 100_000);
        var to = await client.OpenAsync("088", "200-1", 0);

        var first = await client.TransferOutcomeAsync("once", from, to, 40_000);
        var second = await client.TransferOutcomeAsync("once", from, to, 40_000);

        Assert.Equal(first.GetRawText(), second.GetRawText());
        Assert.Equal(60_000, await client.BalanceAsync(from));
        Assert.Equal(40_000, await client.BalanceAsync(to));
    }

    [Fact]
    public async Task Transfer_RepeatOfAFailedTransferAfterFunding_StaysFailed()
    {
        // The first outcome is final: funding the account afterwards must not turn a repeat into a second, different answer.
        await using var bank = new BankApp();
        using var client = bank.CreateClient();
        var from = await client.OpenAsync("004", "100-1", 0);
        var funder = await client.OpenAsync("004", "100-2", 100_000);
        var to = await client.OpenAsync("088", "200-1", 0);
        var first = await client.TransferOutcomeAsync("poor", from, to, 50_000);
        await client.TransferOutcomeAsync("funding", funder, from, 100_000);

        var repeat = await client.TransferOutcomeAsync("poor", from, to, 50_000);

        Assert.Equal("insufficient-funds", first.String("reason"));
        Assert.Equal(first.GetRawText(), repeat.GetRawText());
        Assert.Equal(100_000, await client.BalanceAsync(from));
        Assert.Equal(0, await client.BalanceAsync(to));
    }

    [Fact]
    public async Task Transfer_HundredConcurrentRepeats_MoveOnceAndAgree()
    {
        await using var bank = new BankApp();
        using var client = bank.CreateClient();
        var from = await client.OpenAsync("004", "100-1", 1_000_000);
        var to = await client.OpenAsync("088", "200-1", 0);

        var outcomes = await Task.WhenAll(Enumerable.Range(0, 100).Select(_ => client.TransferOutcomeAsync("burst", from, to, 7_000)));

        Assert.Single(outcomes.Select(outcome => outcome.GetRawText()).Distinct());
        Assert.Equal("succeeded", outcomes[0].String("status"));
        Assert.Equal(1_000_000 - 7_000, await client.BalanceAsync(from));
        Assert.Equal(7_000, await client.BalanceAsync(to));
    }

    [Fact]
    public async Task Transfer_HundredConcurrentDistinctDebits_NeverOverdraw()
    {
        // 100 transfers of 10,000 race for 500,000: exactly 50 can succeed, whatever the interleaving.
        await using var bank = new BankApp();
        using var client = bank.CreateClient();
        var from = await client.OpenAsync("004", "100-1", 500_000);
        var to = await client.OpenAsync("088", "200-1", 0);

        var outcomes = await Task.WhenAll(Enumerable.Range(0, 100).Select(index => client.TransferOutcomeAsync($"race-{index}", from, to, 10_000)));

        Assert.Equal(50, outcomes.Count(outcome => outcome.String("status") == "succeeded"));
        Assert.Equal(50, outcomes.Count(outcome => outcome.GetProperty("reason").ValueKind == JsonValueKind.String && outcome.String("reason") == "insufficient-funds"));
        Assert.Equal(0, await client.BalanceAsync(from));
        Assert.Equal(500_000, await client.BalanceAsync(to));
    }

    [Theory]
    [InlineData(50_001, "100-1", "200-1")]
    [InlineData(50_000, "100-1", "200-2")]
    [InlineData(50_000, "200-1", "100-1")]
    public async Task Transfer_RequestIdReusedWithAnotherBody_Returns409AndNothingMoves(long amountWon, string fromNumber, string toNumber)
    {
        await using var bank = new BankApp();
        using var client = bank.CreateClient();
        var account1 = await client.OpenAsync("004", "100-1", 100_000);
        var account2 = await client.OpenAsync("004", "200-1", 100_000);
        await client.OpenAsync("004", "200-2", 100_000);
        await client.TransferOutcomeAsync("reused", account1, account2, 50_000);

        using var response = await client.TransferAsync("reused", new BankAccount("004", fromNumber), new BankAccount("004", toNumber), amountWon);

        await response.AssertProblemAsync(409, "request-id-reused");
        Assert.Equal(50_000, await client.BalanceAsync(account1));
        Assert.Equal(150_000, await client.BalanceAsync(account2));
        Assert.Equal(100_000, await client.BalanceAsync(new BankAccount("004", "200-2")));
    }

    [Fact]
    public async Task GetTransfer_Recorded_ReturnsTheOutcomeAsAnswered()
    {
        await using var bank = new BankApp();
        using var client = bank.CreateClient();
        var from = await client.OpenAsync("004", "100-1", 100);
        var to = await client.OpenAsync("088", "200-1", 0);
        var succeeded = await client.TransferOutcomeAsync("ok", from, to, 60);
        var failed = await client.TransferOutcomeAsync("not-ok", from, to, 60);

        var askedSucceeded = await client.GetFromJsonAsync<JsonElement>("/transfers/ok");
        var askedFailed = await client.GetFromJsonAsync<JsonElement>("/transfers/not-ok");

        Assert.Equal(succeeded.GetRawText(), askedSucceeded.GetRawText());
        Assert.Equal(failed.GetRawText(), askedFailed.GetRawText());
        Assert.Equal("insufficient-funds", askedFailed.String("reason"));
    }

    [Fact]
    public async Task GetTransfer_Unknown_Returns404UnknownTransfer()
    {
        await using var bank = new BankApp();
        using var client = bank.CreateClient();

        using var response = await client.GetAsync("/transfers/never-sent");

        await response.AssertProblemAsync(404, "unknown-transfer");
    }

    [Fact]
    public async Task GetTransfer_OfARefusedRequest_Returns404()
    {
        // A 400 records nothing: the id stays free, and the bank says it never saw it.
        await using var bank = new BankApp();
        using var client = bank.CreateClient();
        var from = await client.OpenAsync("004", "100-1", 100);
        using var refused = await client.TransferAsync("refused", from, new BankAccount("088", "1"), 0);
        await refused.AssertInvalidAsync("amount");

        using var response = await client.GetAsync("/transfers/refused");

        await response.AssertProblemAsync(404, "unknown-transfer");
    }

    [Theory]
    [InlineData("has%20space")]
    [InlineData("semi;colon")]
    [InlineData("12345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901")]
    public async Task GetTransfer_MalformedRequestId_Returns400(string requestId)
    {
        await using var bank = new BankApp();
        using var client = bank.CreateClient();

        using var response = await client.GetAsync($"/transfers/{requestId}");

        await response.AssertInvalidAsync("requestId");
    }

    [Theory]
    [InlineData("a")]
    [InlineData("recharge:member-42:2026-11-22T10.15_3~x")]
    [InlineData("1234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890")]
    public async Task Transfer_RequestIdOfEveryAllowedShape_IsAcceptedAndFoundAgain(string requestId)
    {
        await using var bank = new BankApp();
        using var client = bank.CreateClient();
        var from = await client.OpenAsync("004", "100-1", 100);
        var to = await client.OpenAsync("088", "200-1", 0);

        await client.TransferOutcomeAsync(requestId, from, to, 1);

        var asked = await client.GetFromJsonAsync<JsonElement>($"/transfers/{requestId}");
        Assert.Equal(requestId, asked.String("requestId"));
    }

    [Theory]
    [InlineData("""{"from":{"bankCode":"004","accountNumber":"100-1"},"to":{"bankCode":"088","accountNumber":"200-1"},"amount":1}""", "requestId")]
    [InlineData("""{"requestId":"","from":{"bankCode":"004","accountNumber":"100-1"},"to":{"bankCode":"088","accountNumber":"200-1"},"amount":1}""", "requestId")]
    [InlineData("""{"requestId":"a/b","from":{"bankCode":"004","accountNumber":"100-1"},"to":{"bankCode":"088","accountNumber":"200-1"},"amount":1}""", "requestId")]
    [InlineData("""{"requestId":"한글","from":{"bankCode":"004","accountNumber":"100-1"},"to":{"bankCode":"088","accountNumber":"200-1"},"amount":1}""", "requestId")]
    [InlineData("""{"requestId":"x","to":{"bankCode":"088","accountNumber":"200-1"},"amount":1}""", "from")]
    [InlineData("""{"requestId":"x","from":{"accountNumber":"100-1"},"to":{"bankCode":"088","accountNumber":"200-1"},"amount":1}""", "from.bankCode")]
    [InlineData("""{"requestId":"x","from":{"bankCode":"004","accountNumber":"100-1"},"amount":1}""", "to")]
    [InlineData("""{"requestId":"x","from":{"bankCode":"004","accountNumber":"100-1"},"to":{"bankCode":"088"},"amount":1}""", "to.accountNumber")]
    [InlineData("""{"requestId":"x","from":{"bankCode":"004","accountNumber":"100-1"},"to":{"bankCode":"088","accountNumber":"2x"},"amount":1}""", "to.accountNumber")]
    [InlineData("""{"requestId":"x","from":{"bankCode":"004","accountNumber":"100-1"},"to":{"bankCode":"088","accountNumber":"200-1"}}""", "amount")]
    [InlineData("""{"requestId":"x","from":{"bankCode":"004","accountNumber":"100-1"},"to":{"bankCode":"088","accountNumber":"200-1"},"amount":0}""", "amount")]
    [InlineData("""{"requestId":"x","from":{"bankCode":"004","accountNumber":"100-1"},"to":{"bankCode":"088","accountNumber":"200-1"},"amount":-1}""", "amount")]
    [InlineData("""{"requestId":"x","from":{"bankCode":"004","accountNumber":"100-1"},"to":{"bankCode":"088","accountNumber":"200-1"},"amount":1000000000000001}""", "amount")]
    [InlineData("""{"requestId":"x","from":{"bankCode":"004","accountNumber":"100-1"},"to":{"bankCode":"004","accountNumber":"100-1"},"amount":1}""", "to")]
    public async Task Transfer_InvalidField_Returns400NamingItAndMovesNothing(string body, string field)
    {
        await using var bank = new BankApp();
        using var client = bank.CreateClient();
        var from = await client.OpenAsync("004", "100-1", 100);
        var to = await client.OpenAsync("088", "200-1", 0);

        using var response = await client.PostJsonAsync("/transfers", body);

        await response.AssertInvalidAsync(field);
        Assert.Equal(100, await client.BalanceAsync(from));
        Assert.Equal(0, await client.BalanceAsync(to));
    }

    [Theory]
    [InlineData("""{"requestId":"x","from":{"bankCode":"004","accountNumber":"100-1"},"to":{"bankCode":"088","accountNumber":"200-1"},"amount":"1000"}""")]
    [InlineData("""{"requestId":"x","from":{"bankCode":"004","accountNumber":"100-1"},"to":{"bankCode":"088","accountNumber":"200-1"},"amount":10.5}""")]
    [InlineData("""{"requestId":"x","from":"004 100-1","to":{"bankCode":"088","accountNumber":"200-1"},"amount":1}""")]
    [InlineData("""{"requestId":7,"from":{"bankCode":"004","accountNumber":"100-1"},"to":{"bankCode":"088","accountNumber":"200-1"},"amount":1}""")]
    [InlineData("""{"requestId":"x",""")]
    [InlineData("")]
    public async Task Transfer_UnreadableBody_Returns400AndMovesNothing(string body)
    {
        await using var bank = new BankApp();
        using var client = bank.CreateClient();
        var from = await client.OpenAsync("004", "100-1", 100_000);

        using var response = await client.PostJsonAsync("/transfers", body);

        var problem = await response.AssertProblemAsync(400, "malformed-request");
        Assert.False(string.IsNullOrWhiteSpace(problem.String("detail")));
        Assert.Equal(100_000, await client.BalanceAsync(from));
    }

    [Fact]
    public async Task Transfer_EveryFieldMissing_NamesEveryField()
    {
        await using var bank = new BankApp();
        using var client = bank.CreateClient();

        using var response = await client.PostJsonAsync("/transfers", "{}");

        await response.AssertInvalidAsync("requestId", "from", "to", "amount");
    }
}
