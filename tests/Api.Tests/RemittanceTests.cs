using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using MyPay.Api.Auth;
using MyPay.Grains.Members;

namespace MyPay.Api.Tests;

/// <summary>
/// Remittances (송금) against the real bank simulator and PostgreSQL: to another member (free, one journal entry),
/// and to a bank account (MyPay's fee held with the amount, the bank transfer from the corporate account, then
/// posted — or voided back to the sender when the bank refuses, or finished later by the reminder when the bank
/// does not answer). Every test checks money on both sides to the won.
/// </summary>
public sealed partial class RemittanceTests(BankFixture fixture) : IClassFixture<BankFixture>, IAsyncLifetime
{
    /// <summary>MyPay's fee for a remittance to a bank account (<c>Remittance:BankTransferFeeWon</c>'s default).</summary>
    private const long FeeWon = 500;

    /// <summary>What the simulator's bank takes from the corporate account per transfer (<c>Bank:CorporateFeeWon</c>'s default).</summary>
    private const long BankFeeWon = 300;

    private const string ProblemBase = "https://mypay.example/problems/";

    private MyPayApp app = null!;

    public async Task InitializeAsync()
    {
        await fixture.ClearFaultsAsync();
        app = await StartAppAsync();
    }

    public async Task DisposeAsync()
    {
        await fixture.ClearFaultsAsync();
        await app.DisposeAsync();
    }

    [Fact]
    public async Task Send_ToMember_MovesTheExactAmountInOneEntry_AndTheRecipientsHistoryShowsIt()
    {
        var sender = await MemberWithAsync(100_000);
        var recipient = await app.RegisterAsync(name: "이영희");
        var corporateBefore = await fixture.CorporateBalanceAsync();

        using var response = await ToMemberAsync(sender.Client, recipient.Id, 30_000, "gift");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var sent = await response.Content.ReadFromJsonAsync<JsonElement>();
        var remittanceId = IdOf(sent);
        Assert.Equal("completed", sent.GetProperty("status").GetString());
        Assert.Equal(sender.Id, sent.GetProperty("senderId").GetString());
        Assert.Equal(recipient.Id, sent.GetProperty("toMemberId").GetString());
        Assert.Equal(JsonValueKind.Null, sent.GetProperty("toBankCode").ValueKind);
        Assert.Equal(30_000, sent.GetProperty("amount").GetInt64());
        Assert.Equal(0, sent.GetProperty("fee").GetInt64());
        Assert.Equal(70_000, await sender.Client.BalanceAsync(sender.Id));
        Assert.Equal(30_000, await recipient.Client.BalanceAsync(recipient.Id));

        // One journal entry, sender's wallet to recipient's wallet, and nothing at the bank.
        Assert.Equal(["remittance"], await EntryKindsAsync(remittanceId));
        Assert.Equal([$"wallet:{recipient.Id} -30000", $"wallet:{sender.Id} 30000"], await PostingsAsync($"remittance:{remittanceId}"));
        Assert.Equal(corporateBefore, await fixture.CorporateBalanceAsync());

        var incoming = Assert.Single(await HistoryAsync(recipient));
        Assert.Equal("remittance", incoming.GetProperty("kind").GetString());
        Assert.Equal(30_000, incoming.GetProperty("amount").GetInt64());
        Assert.Equal(30_000, incoming.GetProperty("balanceAfter").GetInt64());
        Assert.Equal(remittanceId, incoming.GetProperty("requestId").GetString());
        var outgoing = (await HistoryAsync(sender))[0];
        Assert.Equal("remittance", outgoing.GetProperty("kind").GetString());
        Assert.Equal(-30_000, outgoing.GetProperty("amount").GetInt64());
        Assert.Equal(70_000, outgoing.GetProperty("balanceAfter").GetInt64());
        Assert.Equal("gift", outgoing.GetProperty("idempotencyKey").GetString());

        var check = await SettledCheckAsync();
        Assert.True(check.GetProperty("consistent").GetBoolean(), check.ToString());
        Assert.Equal(0, check.GetProperty("total").GetInt64());
    }

    [Fact]
    public async Task Send_SameKeyAgain_AnswersAlikeAndMovesOnce_OtherBodyUnderTheKeyIs422()
    {
        var sender = await MemberWithAsync(100_000);
        var recipient = await app.RegisterAsync();
        var other = await app.RegisterAsync();

        using var first = await ToMemberAsync(sender.Client, recipient.Id, 10_000, "once");
        using var repeat = await ToMemberAsync(sender.Client, recipient.Id, 10_000, "once");
        using var otherAmount = await ToMemberAsync(sender.Client, recipient.Id, 20_000, "once");
        using var otherRecipient = await ToMemberAsync(sender.Client, other.Id, 10_000, "once");

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, repeat.StatusCode);
        Assert.Equal(await first.Content.ReadAsStringAsync(), await repeat.Content.ReadAsStringAsync());
        Assert.Equal(ProblemBase + "idempotency-key-reused", (await otherAmount.AssertProblemAsync(422)).ProblemType());
        Assert.Equal(ProblemBase + "idempotency-key-reused", (await otherRecipient.AssertProblemAsync(422)).ProblemType());
        Assert.Equal(90_000, await sender.Client.BalanceAsync(sender.Id));
        Assert.Equal(10_000, await recipient.Client.BalanceAsync(recipient.Id));
        Assert.Equal(0, await other.Client.BalanceAsync(other.Id));
        Assert.Equal(["remittance"], await EntryKindsAsync(IdOf(await first.Content.ReadFromJsonAsync<JsonElement>())));
    }

    [Fact]
    public async Task Send_SameKeyTwentyTimesConcurrently_OneEffectAndAllAnswersAlike()
    {
        var sender = await MemberWithAsync(100_000);
        var recipient = await app.RegisterAsync();

        var responses = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => ToMemberAsync(sender.Client, recipient.Id, 10_000, "burst")));

        var bodies = await Task.WhenAll(responses.Select(response => response.Content.ReadAsStringAsync()));
        Assert.All(responses, response => Assert.Equal(HttpStatusCode.OK, response.StatusCode));
        Assert.Single(bodies.Distinct());
        Assert.Equal(90_000, await sender.Client.BalanceAsync(sender.Id));
        Assert.Equal(10_000, await recipient.Client.BalanceAsync(recipient.Id));
        Assert.Single(await HistoryAsync(recipient));
        Assert.True((await SettledCheckAsync()).GetProperty("consistent").GetBoolean());
    }

    [Fact]
    public async Task Send_ToBankSameKeyTwentyTimesConcurrently_TheBankMovesTheMoneyOnce()
    {
        var sender = await MemberWithAsync(100_000);
        var external = await fixture.OpenAccountAsync("정수빈", 0, "081");
        var corporateBefore = await fixture.CorporateBalanceAsync();

        var responses = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => ToBankAsync(sender.Client, external, 10_000, "bank-burst")));

        var bodies = await Task.WhenAll(responses.Select(response => response.Content.ReadAsStringAsync()));
        Assert.All(responses, response => Assert.Equal(HttpStatusCode.OK, response.StatusCode));
        Assert.Single(bodies.Distinct());
        Assert.Equal(100_000 - 10_000 - FeeWon, await sender.Client.BalanceAsync(sender.Id));
        Assert.Equal(10_000, await fixture.BalanceAsync(external.BankCode, external.AccountNumber));
        Assert.Equal(corporateBefore - 10_000 - BankFeeWon, await fixture.CorporateBalanceAsync());
    }

    [Fact]
    public async Task Send_MoreThanTheWalletHolds_Is422InsufficientFunds_AndNothingMoves_ExactlyTheBalanceIsEnough()
    {
        // The sender has no linked account, so nothing can top the wallet up (MoneyRuleTests covers the top-up).
        var funder = await MemberWithAsync(50_000);
        var sender = await app.RegisterAsync();
        using (var funded = await ToMemberAsync(funder.Client, sender.Id, 10_000, "fund"))
        {
            Assert.Equal(HttpStatusCode.OK, funded.StatusCode);
        }

        var recipient = await app.RegisterAsync();
        var external = await fixture.OpenAccountAsync("강하늘", 0, "090");
        var corporateBefore = await fixture.CorporateBalanceAsync();

        using var toMember = await ToMemberAsync(sender.Client, recipient.Id, 10_001, "short-member");

        // To a bank the fee counts too: 9,501 + 500 is one won more than the wallet holds.
        using var toBank = await ToBankAsync(sender.Client, external, 9_501, "short-bank");

        Assert.Equal(ProblemBase + "insufficient-funds", (await toMember.AssertProblemAsync(422)).ProblemType());
        var bankProblem = await toBank.AssertProblemAsync(422);
        Assert.Equal(ProblemBase + "insufficient-funds", bankProblem.ProblemType());
        Assert.Contains("500 won fee", bankProblem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(10_000, await sender.Client.BalanceAsync(sender.Id));
        Assert.Equal(0, await recipient.Client.BalanceAsync(recipient.Id));
        Assert.Equal(0, await fixture.BalanceAsync(external.BankCode, external.AccountNumber));
        Assert.Equal(corporateBefore, await fixture.CorporateBalanceAsync());
        Assert.Single(await HistoryAsync(sender));
        Assert.Empty(await HistoryAsync(recipient));

        using var exact = await ToBankAsync(sender.Client, external, 10_000 - FeeWon, "exact");

        Assert.Equal(HttpStatusCode.OK, exact.StatusCode);
        Assert.Equal(0, await sender.Client.BalanceAsync(sender.Id));
        Assert.Equal(10_000 - FeeWon, await fixture.BalanceAsync(external.BankCode, external.AccountNumber));
        using var empty = await ToMemberAsync(sender.Client, recipient.Id, 1, "empty");
        Assert.Equal(ProblemBase + "insufficient-funds", (await empty.AssertProblemAsync(422)).ProblemType());
        Assert.True((await SettledCheckAsync()).GetProperty("consistent").GetBoolean());
    }

    [Fact]
    public async Task Send_ToBankAccount_DebitsAmountPlusFee_CreditsTheAccount_AndTheCorporateAccountPaysAmountAndBankFee()
    {
        var sender = await MemberWithAsync(100_000);
        var external = await fixture.OpenAccountAsync("박지성", 1_000, "020");
        var corporateBefore = await fixture.CorporateBalanceAsync();

        using var response = await ToBankAsync(sender.Client, external, 30_000, "to-bank");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var sent = await response.Content.ReadFromJsonAsync<JsonElement>();
        var remittanceId = IdOf(sent);
        Assert.Equal("completed", sent.GetProperty("status").GetString());
        Assert.Equal(FeeWon, sent.GetProperty("fee").GetInt64());
        Assert.Equal("020", sent.GetProperty("toBankCode").GetString());
        Assert.Equal(external.AccountNumber, sent.GetProperty("toAccountNumber").GetString());
        Assert.Equal(JsonValueKind.Null, sent.GetProperty("toMemberId").ValueKind);
        Assert.NotEqual(JsonValueKind.Null, sent.GetProperty("completedAt").ValueKind);
        Assert.Equal(100_000 - 30_000 - FeeWon, await sender.Client.BalanceAsync(sender.Id));
        Assert.Equal(1_000 + 30_000, await fixture.BalanceAsync(external.BankCode, external.AccountNumber));
        Assert.Equal(corporateBefore - 30_000 - BankFeeWon, await fixture.CorporateBalanceAsync());

        var latest = (await HistoryAsync(sender))[0];
        Assert.Equal("remittance-hold", latest.GetProperty("kind").GetString());
        Assert.Equal(-30_500, latest.GetProperty("amount").GetInt64());
        Assert.Equal(69_500, latest.GetProperty("balanceAfter").GetInt64());

        // The hold is closed by the posting: the corporate account paid the amount, MyPay earned the fee, the bank's fee is an expense.
        Assert.Equal(["bank-fee", "remittance-hold", "remittance-post"], await EntryKindsAsync(remittanceId));
        Assert.Equal(["corporate_cash -30000", "fee_revenue -500", $"hold:remittance:{remittanceId} 30500"], await PostingsAsync($"remittance-post:{remittanceId}"));
        Assert.Equal(["corporate_cash -300", "bank_fee_expense 300"], await PostingsAsync($"bank-fee:remittance:{remittanceId}"));

        var check = await SettledCheckAsync();
        Assert.True(check.GetProperty("consistent").GetBoolean(), check.ToString());
        Assert.Equal(0, check.GetProperty("total").GetInt64());
        Assert.True(check.GetProperty("corporateMatchesBank").GetBoolean(), check.ToString());
    }

    [Theory]
    [InlineData("closed", "account-closed")]
    [InlineData("unknown-account", "unknown-account")]
    [InlineData("unknown-bank", "unknown-bank")]
    public async Task Send_BankRefuses_Is422BankRefused_AndTheSenderGetsEverythingBack(string recipientAccount, string reason)
    {
        var sender = await MemberWithAsync(50_000);
        (string BankCode, string AccountNumber) external = recipientAccount switch
        {
            "closed" => await fixture.OpenAccountAsync("폐쇄된 계좌", 0, "004", status: "closed"),
            "unknown-account" => ("004", "404-404-404404"),
            _ => ("999", "123-456-789"),
        };
        var corporateBefore = await fixture.CorporateBalanceAsync();

        using var response = await ToBankAsync(sender.Client, external, 20_000, "refused");

        var problem = await response.AssertProblemAsync(422);
        Assert.Equal(ProblemBase + "bank-refused", problem.ProblemType());
        Assert.Contains(reason, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(50_000, await sender.Client.BalanceAsync(sender.Id));
        Assert.Equal(corporateBefore, await fixture.CorporateBalanceAsync());
        if (recipientAccount == "closed")
        {
            Assert.Equal(0, await fixture.BalanceAsync(external.BankCode, external.AccountNumber));
        }

        // Newest first: the void gave back exactly what the hold took, amount and fee.
        var history = await HistoryAsync(sender);
        Assert.Equal(["remittance-void", "remittance-hold", "recharge"], history.Select(item => item.GetProperty("kind").GetString()));
        Assert.Equal([20_500L, -20_500L, 50_000L], history.Select(item => item.GetProperty("amount").GetInt64()));
        Assert.Equal([50_000L, 29_500L, 50_000L], history.Select(item => item.GetProperty("balanceAfter").GetInt64()));
        var remittance = Assert.Single(await sender.Client.GetFromJsonAsync<JsonElement[]>($"/v1/members/{sender.Id}/remittances") ?? []);
        Assert.Equal("voided", remittance.GetProperty("status").GetString());
        Assert.Equal(reason, remittance.GetProperty("failureReason").GetString());
        Assert.Equal(["remittance-hold", "remittance-void"], await EntryKindsAsync(IdOf(remittance)));

        // The same request again answers the same refusal and holds nothing a second time.
        using var retry = await ToBankAsync(sender.Client, external, 20_000, "refused");
        Assert.Equal(ProblemBase + "bank-refused", (await retry.AssertProblemAsync(422)).ProblemType());
        Assert.Equal(50_000, await sender.Client.BalanceAsync(sender.Id));
        Assert.Equal(3, (await HistoryAsync(sender)).Length);
        var check = await SettledCheckAsync();
        Assert.True(check.GetProperty("consistent").GetBoolean(), check.ToString());
        Assert.True(check.GetProperty("corporateMatchesBank").GetBoolean(), check.ToString());
    }

    [Fact]
    public async Task Send_RecipientsBankDown_Is202WithTheHoldTaken_ThenTheReminderCompletesIt()
    {
        // The recipient's bank errs on every call, so the transfer cannot happen within the (short) wait: 202 with
        // the remittance's address, the amount and fee held. Once the bank is back, the remittance's durable
        // reminder finishes it with no client retry: the account is credited once and the hold posted.
        await ReplaceAppAsync(new Dictionary<string, string> { ["Recharge:SynchronousWait"] = "00:00:01" });
        var sender = await MemberWithAsync(100_000);
        var external = await fixture.OpenAccountAsync("최민호", 0, "020");
        var corporateBefore = await fixture.CorporateBalanceAsync();
        await fixture.SetFaultsAsync(external.BankCode, errorRate: 1);

        using var response = await ToBankAsync(sender.Client, external, 10_000, "bank-down");

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var location = response.Headers.Location!.OriginalString;
        Assert.Matches("^/v1/remittances/rm[0-9a-f]{24}$", location);
        var accepted = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(accepted.GetProperty("status").GetString() is "pending" or "held", accepted.ToString());
        var held = await sender.Client.GetFromJsonAsync<JsonElement>(location);
        Assert.Equal("held", held.GetProperty("status").GetString());
        Assert.Equal(100_000 - 10_000 - FeeWon, await sender.Client.BalanceAsync(sender.Id));

        // The bank recorded no transfer (its status query for an unknown id suffers no faults), and the corporate account is untouched.
        using (var transfer = await fixture.Bank.Client.GetAsync(new Uri($"/transfers/remittance:{IdOf(held)}", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.NotFound, transfer.StatusCode);
        }

        Assert.Equal(corporateBefore, await fixture.CorporateBalanceAsync());
        using (var operatorClient = await app.OperatorAsync())
        {
            var inFlight = await operatorClient.GetFromJsonAsync<JsonElement>("/v1/ledger/check");
            Assert.True(inFlight.GetProperty("consistent").GetBoolean(), inFlight.ToString());
            Assert.Equal(1, inFlight.GetProperty("remittancesInFlight").GetInt64());
            Assert.Equal(JsonValueKind.Null, inFlight.GetProperty("corporateMatchesBank").ValueKind);
        }

        await fixture.ClearFaultsAsync();
        var done = await FinalAsync(sender.Client, location);

        Assert.Equal("completed", done.GetProperty("status").GetString());
        Assert.Equal(100_000 - 10_000 - FeeWon, await sender.Client.BalanceAsync(sender.Id));
        Assert.Equal(10_000, await fixture.BalanceAsync(external.BankCode, external.AccountNumber));
        Assert.Equal(corporateBefore - 10_000 - BankFeeWon, await fixture.CorporateBalanceAsync());
        Assert.Equal(["bank-fee", "remittance-hold", "remittance-post"], await EntryKindsAsync(IdOf(done)));

        // The same request again answers with the finished remittance.
        using var repeat = await ToBankAsync(sender.Client, external, 10_000, "bank-down");
        Assert.Equal(HttpStatusCode.OK, repeat.StatusCode);
        Assert.Equal(IdOf(done), IdOf(await repeat.Content.ReadFromJsonAsync<JsonElement>()));
        Assert.Equal(10_000, await fixture.BalanceAsync(external.BankCode, external.AccountNumber));
        var check = await SettledCheckAsync();
        Assert.True(check.GetProperty("consistent").GetBoolean(), check.ToString());
        Assert.True(check.GetProperty("corporateMatchesBank").GetBoolean(), check.ToString());
    }

    [Fact]
    public async Task Send_AroundACycleOf500Members_AllAtOnce_EveryBalanceEndsWhereItStarted()
    {
        // Member i sends its whole 10,000 won to member i+1 (the last to the first), all 500 at once: every wallet
        // gives and receives concurrently. Each must end at exactly 10,000 with exactly one payment in and one out
        // (besides its funding), and the ledger must balance. A wallet driven below zero on the way would have
        // been refused by the database's CHECK, failing a request.
        const int Members = 500;
        const long StartWon = 10_000;
        await ReplaceAppAsync(new Dictionary<string, string> { ["Wallet:BalanceCapWon"] = "10000000" });
        var funder = await MemberWithAsync(2_000_000);
        foreach (var top in new[] { 2_000_000L, 1_000_000L })
        {
            using var recharged = await funder.Client.RechargeAsync(funder.Id, top, $"top-{top}");
            Assert.Equal(HttpStatusCode.OK, recharged.StatusCode);
        }

        var ring = await RegisterManyAsync(Members);

        var entriesBefore = await RemittanceEntriesAsync();
        var funding = await Task.WhenAll(ring.Select(member => ToMemberAsync(funder.Client, member.Id, StartWon, $"fund-{member.Id}")));
        Assert.All(funding, response => Assert.Equal(HttpStatusCode.OK, response.StatusCode));
        Assert.Equal(5_000_000 - (Members * StartWon), await funder.Client.BalanceAsync(funder.Id));

        var responses = await Task.WhenAll(ring.Select((member, i) => ToMemberAsync(member.Client, ring[(i + 1) % Members].Id, StartWon, "ring")));

        Assert.All(responses, response => Assert.Equal(HttpStatusCode.OK, response.StatusCode));
        var balances = await Task.WhenAll(ring.Select(member => member.Client.BalanceAsync(member.Id)));
        Assert.All(balances, balanceWon => Assert.Equal(StartWon, balanceWon));
        var histories = await Task.WhenAll(ring.Select(HistoryAsync));
        Assert.All(histories, history => Assert.Equal([-StartWon, StartWon, StartWon], history.Select(item => item.GetProperty("amount").GetInt64()).Order()));
        Assert.Equal(entriesBefore + (Members * 2), await RemittanceEntriesAsync());
        var check = await SettledCheckAsync();
        Assert.True(check.GetProperty("consistent").GetBoolean(), check.ToString());
        Assert.Equal(0, check.GetProperty("total").GetInt64());
    }

    [Fact]
    public async Task Send_ToSelf_ToAnUnknownOrSuspendedMember_Is422AndNothingMoves()
    {
        var sender = await MemberWithAsync(50_000);
        var suspended = await app.RegisterAsync();
        using var operatorClient = await app.OperatorAsync();
        using var suspend = await operatorClient.PatchAsJsonAsync($"/v1/members/{suspended.Id}", new { status = "suspended" });
        suspend.EnsureSuccessStatusCode();

        using var toSelf = await ToMemberAsync(sender.Client, sender.Id, 1_000, "self");
        using var toNobody = await ToMemberAsync(sender.Client, "m00000000000000000000", 1_000, "nobody");
        using var toSuspended = await ToMemberAsync(sender.Client, suspended.Id, 1_000, "suspended");
        using var toOperator = await ToMemberAsync(sender.Client, "operator", 1_000, "operator");

        Assert.Equal(ProblemBase + "sending-to-self", (await toSelf.AssertProblemAsync(422)).ProblemType());
        Assert.Equal(ProblemBase + "unknown-recipient", (await toNobody.AssertProblemAsync(422)).ProblemType());
        Assert.Equal(ProblemBase + "unknown-recipient", (await toSuspended.AssertProblemAsync(422)).ProblemType());
        Assert.Equal(ProblemBase + "unknown-recipient", (await toOperator.AssertProblemAsync(422)).ProblemType());
        Assert.Equal(50_000, await sender.Client.BalanceAsync(sender.Id));
        Assert.Equal(0, await operatorClient.BalanceAsync(suspended.Id));
        Assert.Empty(await sender.Client.GetFromJsonAsync<JsonElement[]>($"/v1/members/{sender.Id}/remittances") ?? []);
    }

    [Fact]
    public async Task Send_BeyondTheRecipientsCap_Is422_UpToTheCapExactlyIsAllowed()
    {
        var sender = await MemberWithAsync(50_000);
        var recipient = await MemberWithAsync(1_990_000);

        using var over = await ToMemberAsync(sender.Client, recipient.Id, 10_001, "over");
        using var exact = await ToMemberAsync(sender.Client, recipient.Id, 10_000, "exact");
        using var full = await ToMemberAsync(sender.Client, recipient.Id, 1, "full");

        var overProblem = await over.AssertProblemAsync(422);
        Assert.Equal(ProblemBase + "recipient-cap-exceeded", overProblem.ProblemType());
        Assert.Contains("cannot take 10001 won more", overProblem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, exact.StatusCode);
        Assert.Equal(ProblemBase + "recipient-cap-exceeded", (await full.AssertProblemAsync(422)).ProblemType());
        Assert.Equal(2_000_000, await recipient.Client.BalanceAsync(recipient.Id));
        Assert.Equal(40_000, await sender.Client.BalanceAsync(sender.Id));
    }

    [Fact]
    public async Task Send_MalformedBodies_Are400NamingTheField_AndMoveNothingNorUseTheKey()
    {
        // Each body is otherwise a valid request from a sender with money. "binding" marks bodies that are not
        // the request's JSON shape at all (a 400 problem of its own); the others must name the field at fault.
        var sender = await MemberWithAsync(20_000);
        var recipient = await app.RegisterAsync();
        var r = recipient.Id;
        var cases = new (string Body, string Field)[]
        {
            ($$"""{"toMemberId":"{{r}}","amount":0}""", "amount"),
            ($$"""{"toMemberId":"{{r}}","amount":-1}""", "amount"),
            ($$"""{"toMemberId":"{{r}}","amount":-9223372036854775808}""", "amount"),
            ($$"""{"toMemberId":"{{r}}","amount":2000001}""", "amount"),
            ($$"""{"toMemberId":"{{r}}","amount":9223372036854775807}""", "amount"),
            ($$"""{"toMemberId":"{{r}}"}""", "amount"),
            ($$"""{"toMemberId":"{{r}}","amount":null}""", "amount"),
            ("""{"toBankCode":"004","toAccountNumber":"123-456","amount":0}""", "amount"),
            ("""{"amount":1000}""", "to"),
            ("""{"toMemberId":null,"amount":1000}""", "to"),
            ($$"""{"toMemberId":"{{r}}","toBankCode":"004","toAccountNumber":"123-456","amount":1000}""", "to"),
            ($$"""{"toMemberId":"{{r}}","toAccountNumber":"123-456","amount":1000}""", "to"),
            ("""{"toMemberId":"bad id","amount":1000}""", "toMemberId"),
            ("""{"toMemberId":"","amount":1000}""", "toMemberId"),
            ("""{"toMemberId":"m1/../m2","amount":1000}""", "toMemberId"),
            ($$"""{"toMemberId":"{{new string('m', 65)}}","amount":1000}""", "toMemberId"),
            ("""{"toBankCode":"004","amount":1000}""", "toAccountNumber"),
            ("""{"toAccountNumber":"123-456","amount":1000}""", "toBankCode"),
            ("""{"toBankCode":"04","toAccountNumber":"123-456","amount":1000}""", "toBankCode"),
            ("""{"toBankCode":"abc","toAccountNumber":"123-456","amount":1000}""", "toBankCode"),
            ("""{"toBankCode":"004","toAccountNumber":"","amount":1000}""", "toAccountNumber"),
            ("""{"toBankCode":"004","toAccountNumber":"---","amount":1000}""", "toAccountNumber"),
            ("""{"toBankCode":"004","toAccountNumber":"12a-456","amount":1000}""", "toAccountNumber"),
            ($$"""{"toBankCode":"004","toAccountNumber":"{{new string('1', 33)}}","amount":1000}""", "toAccountNumber"),
            ($$"""{"toMemberId":"{{r}}","amount":"1000"}""", "binding"),
            ($$"""{"toMemberId":"{{r}}","amount":1000.5}""", "binding"),
            ($$"""{"toMemberId":"{{r}}","amount":99999999999999999999}""", "binding"),
            ($$"""{"toMemberId":"{{r}}","amount":1e3}""", "binding"),
            ("""{"toMemberId":12345,"amount":1000}""", "binding"),
            ("""{"toBankCode":4,"toAccountNumber":"123-456","amount":1000}""", "binding"),
            ($$"""{"toMemberId":"{{r}}","amount":1000""", "binding"),
            ("not json", "binding"),
            ("[]", "binding"),
            ("null", "binding"),
            ("", "binding"),
        };
        var failures = new List<string>();

        for (var i = 0; i < cases.Length; i++)
        {
            var (body, field) = cases[i];
            using var response = await SendAsync(sender.Client, body, $"bad-{i}");
            var problem = await ReadProblemAsync(response);
            if (response.StatusCode != HttpStatusCode.BadRequest || problem is null)
            {
                failures.Add($"{body}: {(int)response.StatusCode} {problem}");
            }
            else if (field != "binding" && (problem.Value.ProblemType() != ProblemBase + "invalid-remittance"
                || !problem.Value.TryGetProperty("errors", out var errors) || !errors.TryGetProperty(field, out _)))
            {
                failures.Add($"{body}: expected invalid-remittance naming {field}; got {problem}");
            }
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures));
        Assert.Equal(20_000, await sender.Client.BalanceAsync(sender.Id));
        Assert.Equal(0, await recipient.Client.BalanceAsync(recipient.Id));
        Assert.Empty(await sender.Client.GetFromJsonAsync<JsonElement[]>($"/v1/members/{sender.Id}/remittances") ?? []);

        // A bad request records nothing under its key: a valid request may still use it.
        using var valid = await ToMemberAsync(sender.Client, recipient.Id, 1_000, "bad-0");
        Assert.Equal(HttpStatusCode.OK, valid.StatusCode);
        Assert.Equal(19_000, await sender.Client.BalanceAsync(sender.Id));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("has space")]
    [InlineData("한글키")]
    [InlineData("k\t")]
    [InlineData("201")]
    public async Task Send_WithoutAValidKey_Is400AndNothingMoves(string? key)
    {
        var sender = await MemberWithAsync(10_000);
        var recipient = await app.RegisterAsync();

        using var response = await ToMemberAsync(sender.Client, recipient.Id, 1_000, key == "201" ? new string('k', 201) : key);

        Assert.Equal(ProblemBase + "idempotency-key-required", (await response.AssertProblemAsync(400)).ProblemType());
        Assert.Equal(10_000, await sender.Client.BalanceAsync(sender.Id));
        Assert.Equal(0, await recipient.Client.BalanceAsync(recipient.Id));
    }

    [Fact]
    public async Task Send_ByAnOperator_Is403_ByASuspendedMember_Is403_WithoutAToken_Is401()
    {
        var sender = await MemberWithAsync(50_000);
        var recipient = await app.RegisterAsync();
        var external = await fixture.OpenAccountAsync("김철수", 0);
        using var operatorClient = await app.OperatorAsync();
        using var anonymous = app.CreateClient();

        using var byOperator = await ToMemberAsync(operatorClient, recipient.Id, 1_000, "operator");
        using var byOperatorToBank = await ToBankAsync(operatorClient, external, 1_000, "operator-bank");
        using var anonymously = await ToMemberAsync(anonymous, recipient.Id, 1_000, "anonymous");
        using var badToken = new HttpRequestMessage(HttpMethod.Post, "/v1/remittances") { Content = JsonContent.Create(new { toMemberId = recipient.Id, amount = 1_000 }) };
        badToken.Headers.Add("Idempotency-Key", "bad-token");
        badToken.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "not.a.token");
        using var withBadToken = await anonymous.SendAsync(badToken);
        using var suspend = await operatorClient.PatchAsJsonAsync($"/v1/members/{sender.Id}", new { status = "suspended" });
        suspend.EnsureSuccessStatusCode();
        using var bySuspended = await ToMemberAsync(sender.Client, recipient.Id, 1_000, "suspended");
        using var bySuspendedToBank = await ToBankAsync(sender.Client, external, 1_000, "suspended-bank");

        Assert.Equal(ProblemBase + "forbidden", (await byOperator.AssertProblemAsync(403)).ProblemType());
        await byOperatorToBank.AssertProblemAsync(403);
        await anonymously.AssertProblemAsync(401);
        await withBadToken.AssertProblemAsync(401);
        Assert.Equal(ProblemBase + "member-suspended", (await bySuspended.AssertProblemAsync(403)).ProblemType());
        await bySuspendedToBank.AssertProblemAsync(403);
        Assert.Equal(50_000, await operatorClient.BalanceAsync(sender.Id));
        Assert.Equal(0, await operatorClient.BalanceAsync(recipient.Id));
        Assert.Equal(0, await fixture.BalanceAsync(external.BankCode, external.AccountNumber));
    }

    [Fact]
    public async Task GetRemittance_SenderRecipientAndOperatorsSeeIt_OthersGet404()
    {
        var sender = await MemberWithAsync(20_000);
        var recipient = await app.RegisterAsync();
        var stranger = await app.RegisterAsync();
        using var operatorClient = await app.OperatorAsync();
        using var anonymous = app.CreateClient();
        using var sent = await ToMemberAsync(sender.Client, recipient.Id, 5_000, "seen");
        var path = $"/v1/remittances/{IdOf(await sent.Content.ReadFromJsonAsync<JsonElement>())}";

        using var bySender = await sender.Client.GetAsync(new Uri(path, UriKind.Relative));
        using var byRecipient = await recipient.Client.GetAsync(new Uri(path, UriKind.Relative));
        using var byOperator = await operatorClient.GetAsync(new Uri(path, UriKind.Relative));
        using var byStranger = await stranger.Client.GetAsync(new Uri(path, UriKind.Relative));
        using var byAnonymous = await anonymous.GetAsync(new Uri(path, UriKind.Relative));
        using var unknown = await sender.Client.GetAsync(new Uri("/v1/remittances/rm000000000000000000000000", UriKind.Relative));
        using var tooLong = await operatorClient.GetAsync(new Uri($"/v1/remittances/{new string('r', 65)}", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, bySender.StatusCode);
        Assert.Equal(HttpStatusCode.OK, byRecipient.StatusCode);
        Assert.Equal(HttpStatusCode.OK, byOperator.StatusCode);
        var seen = await bySender.Content.ReadAsStringAsync();
        Assert.Equal(seen, await byRecipient.Content.ReadAsStringAsync());
        Assert.Equal(seen, await byOperator.Content.ReadAsStringAsync());
        Assert.Equal(await sent.Content.ReadAsStringAsync(), seen);
        Assert.Equal(ProblemBase + "unknown-remittance", (await byStranger.AssertProblemAsync(404)).ProblemType());
        await byAnonymous.AssertProblemAsync(401);
        await unknown.AssertProblemAsync(404);
        await tooLong.AssertProblemAsync(404);
    }

    [Fact]
    public async Task ListRemittances_SentAndReceivedNewestFirst_ForTheMemberAndOperatorsOnly()
    {
        var alice = await MemberWithAsync(50_000);
        var bob = await MemberWithAsync(50_000);
        var carol = await app.RegisterAsync();
        var external = await fixture.OpenAccountAsync("Alice Kim", 0, "011");
        foreach (var send in new Func<Task<HttpResponseMessage>>[]
        {
            () => ToMemberAsync(alice.Client, bob.Id, 1_000, "l1"),
            () => ToMemberAsync(bob.Client, alice.Id, 2_000, "l2"),
            () => ToMemberAsync(alice.Client, carol.Id, 3_000, "l3"),
            () => ToBankAsync(alice.Client, external, 4_000, "l4"),
        })
        {
            using var response = await send();
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        using var operatorClient = await app.OperatorAsync();
        var ofAlice = await alice.Client.GetFromJsonAsync<JsonElement[]>($"/v1/members/{alice.Id}/remittances") ?? [];
        var ofBob = await bob.Client.GetFromJsonAsync<JsonElement[]>($"/v1/members/{bob.Id}/remittances") ?? [];
        var ofCarol = await carol.Client.GetFromJsonAsync<JsonElement[]>($"/v1/members/{carol.Id}/remittances") ?? [];
        using var byCarol = await carol.Client.GetAsync(new Uri($"/v1/members/{alice.Id}/remittances", UriKind.Relative));
        using var byOperator = await operatorClient.GetAsync(new Uri($"/v1/members/{alice.Id}/remittances", UriKind.Relative));

        Assert.Equal([4_000L, 3_000L, 2_000L, 1_000L], ofAlice.Select(item => item.GetProperty("amount").GetInt64()));
        Assert.Equal([alice.Id, alice.Id, bob.Id, alice.Id], ofAlice.Select(item => item.GetProperty("senderId").GetString()));
        Assert.Equal("011", ofAlice[0].GetProperty("toBankCode").GetString());
        Assert.All(ofAlice, item => Assert.Equal("completed", item.GetProperty("status").GetString()));
        Assert.Equal([2_000L, 1_000L], ofBob.Select(item => item.GetProperty("amount").GetInt64()));
        Assert.Equal([3_000L], ofCarol.Select(item => item.GetProperty("amount").GetInt64()));
        await byCarol.AssertProblemAsync(403);
        Assert.Equal(HttpStatusCode.OK, byOperator.StatusCode);
        Assert.Equal(4, (await byOperator.Content.ReadFromJsonAsync<JsonElement[]>())!.Length);
        Assert.Equal(50_000 - 1_000 + 2_000 - 3_000 - 4_000 - FeeWon, await alice.Client.BalanceAsync(alice.Id));
    }

    [Fact]
    public async Task Send_UnderAKeyTheSenderUsedForARecharge_IsEitherItsOwnRemittanceOrRefused_NeverHalfDone()
    {
        // Keys are the client's: one reused across endpoints must not break the remittance half-way. Either the
        // remittance goes through as a request of its own, or it is refused as a reused key; nothing in between
        // (no 5xx, no money stuck in a remittance that can never finish). On a bank and database of its own, so
        // a remittance left stuck here cannot disturb the other tests' reconciliation.
        await using var own = await IsolatedAsync();
        var sender = await own.Bank.FundedMemberAsync(own.App, bankBalanceWon: 1_000_000);
        var recipient = await own.App.RegisterAsync();
        using (var recharged = await sender.Client.RechargeAsync(sender.Id, 50_000, "shared-key"))
        {
            Assert.Equal(HttpStatusCode.OK, recharged.StatusCode);
        }

        using var response = await ToMemberAsync(sender.Client, recipient.Id, 10_000, "shared-key");

        Assert.True(response.StatusCode is HttpStatusCode.OK or HttpStatusCode.UnprocessableEntity, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        var moved = response.StatusCode == HttpStatusCode.OK ? 10_000 : 0;
        Assert.Equal(50_000 - moved, await sender.Client.BalanceAsync(sender.Id));
        Assert.Equal(moved, await recipient.Client.BalanceAsync(recipient.Id));
        var check = await SettledCheckAsync(own.App);
        Assert.True(check.GetProperty("consistent").GetBoolean(), check.ToString());
    }

    [Fact]
    public async Task Send_ToMyPaysOwnCorporateAccount_IsRefusedAndTheSenderKeepsTheMoney()
    {
        // The corporate account is where a bank remittance is paid from; a transfer from it to itself cannot
        // happen. Whether refused up front or voided, the sender must end with every won and nothing in flight.
        // On a bank and database of its own, as above.
        await using var own = await IsolatedAsync();
        var sender = await MemberWithAsync(50_000, own.Bank, own.App);

        using var response = await ToBankAsync(sender.Client, ("088", "100-000-000001"), 10_000, "to-corporate");

        Assert.True((int)response.StatusCode is >= 400 and < 500, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        Assert.Equal(50_000, await sender.Client.BalanceAsync(sender.Id));
        var check = await SettledCheckAsync(own.App);
        Assert.True(check.GetProperty("consistent").GetBoolean(), check.ToString());
    }

    private Task<MyPayApp> StartAppAsync(IReadOnlyDictionary<string, string>? overrides = null) => StartAppAsync(fixture, overrides);

    private static async Task<MyPayApp> StartAppAsync(BankFixture bank, IReadOnlyDictionary<string, string>? overrides = null)
    {
        var settings = new Dictionary<string, string>
        {
            ["Remittance:ResumeInterval"] = "00:00:01",
            ["Recharge:ResumeInterval"] = "00:00:01",
            ["Recharge:SynchronousWait"] = "00:00:10",
        };
        foreach (var (key, value) in overrides ?? new Dictionary<string, string>())
        {
            settings[key] = value;
        }

        var started = new MyPayApp(bank.Database.ConnectionString, bank.Bank.BaseAddress, settings);
        (await started.CreateReadyClientAsync()).Dispose();
        return started;
    }

    /// <summary>Swaps this test's node for one with other settings (one node at a time, so reminders fire in one place).</summary>
    private async Task ReplaceAppAsync(IReadOnlyDictionary<string, string> overrides)
    {
        await app.DisposeAsync();
        app = await StartAppAsync(overrides);
    }

    /// <summary>A fresh bank and database with a node of their own, for a test whose leftovers must not reach the others.</summary>
    private static async Task<Isolated> IsolatedAsync()
    {
        var bank = new BankFixture();
        await bank.InitializeAsync();
        return new Isolated(bank, await StartAppAsync(bank));
    }

    /// <summary>A member with a linked bank account and this much in their wallet (a multiple of 10,000 won).</summary>
    private Task<MyPayApp.Member> MemberWithAsync(long walletWon, BankFixture? bank = null, MyPayApp? node = null) =>
        (bank ?? fixture).MemberWithWalletAsync(node ?? app, walletWon);

    /// <summary>
    /// Registers many members at once through the node's own registry and token issuer — the steps behind
    /// <c>POST /v1/members</c> and sign-in — with one password hash for all of them: hashing is what makes
    /// registration slow, and tests that need hundreds of members are not about registration.
    /// </summary>
    private async Task<MyPayApp.Member[]> RegisterManyAsync(int count)
    {
        var registry = app.Services.GetRequiredService<MemberRegistry>();
        var tokens = app.Services.GetRequiredService<TokenIssuer>();
        var passwordHash = app.Services.GetRequiredService<Passwords>().Hash("correct horse battery");
        return await Task.WhenAll(Enumerable.Range(0, count).Select(async i =>
        {
            var email = $"{Guid.NewGuid():N}@example.com";
            var registered = await registry.RegisterAsync(MemberType.Customer, $"회원 {i}", email, "서울특별시", passwordHash);
            var id = registered.Profile!.Id;
            var client = app.CreateClient();
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", tokens.Issue(id, Roles.Customer).AccessToken);
            return new MyPayApp.Member(id, email, client);
        }));
    }

    private static async Task<HttpResponseMessage> SendAsync(HttpClient client, string jsonBody, string? idempotencyKey)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/remittances") { Content = new StringContent(jsonBody, Encoding.UTF8, "application/json") };
        if (idempotencyKey is not null)
        {
            request.Headers.TryAddWithoutValidation("Idempotency-Key", idempotencyKey);
        }

        return await client.SendAsync(request);
    }

    private static Task<HttpResponseMessage> ToMemberAsync(HttpClient client, string recipientId, long amountWon, string? idempotencyKey) =>
        SendAsync(client, JsonSerializer.Serialize(new { toMemberId = recipientId, amount = amountWon }), idempotencyKey);

    private static Task<HttpResponseMessage> ToBankAsync(HttpClient client, (string BankCode, string AccountNumber) account, long amountWon, string? idempotencyKey) =>
        SendAsync(client, JsonSerializer.Serialize(new { toBankCode = account.BankCode, toAccountNumber = account.AccountNumber, amount = amountWon }), idempotencyKey);

    private static string IdOf(JsonElement remittance)
    {
        var remittanceId = remittance.GetProperty("remittanceId").GetString()!;
        Assert.Matches(RemittanceIdPattern(), remittanceId);
        return remittanceId;
    }

    private static async Task<JsonElement?> ReadProblemAsync(HttpResponseMessage response)
    {
        if (response.Content.Headers.ContentType?.MediaType != "application/problem+json")
        {
            return null;
        }

        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        return problem.TryGetProperty("status", out var status) && status.GetInt32() == (int)response.StatusCode ? problem : null;
    }

    private static async Task<JsonElement[]> HistoryAsync(MyPayApp.Member member) =>
        [.. (await member.Client.GetFromJsonAsync<JsonElement>($"/v1/members/{member.Id}/wallet/history?limit=100")).GetProperty("items").EnumerateArray()];

    private Task<long> RemittanceEntriesAsync() => fixture.Database.ScalarAsync<long>("SELECT count(*) FROM ledger_entry WHERE kind = 'remittance'");

    /// <summary>The kinds of the journal entries a remittance made (its own, and the bank fee of its transfer), sorted.</summary>
    private async Task<string[]> EntryKindsAsync(string remittanceId)
    {
        Assert.Matches(RemittanceIdPattern(), remittanceId);
        return await fixture.Database.ScalarAsync<string[]>(
            $"SELECT coalesce(array_agg(kind ORDER BY kind), '{{}}') FROM ledger_entry WHERE reference IN ('{remittanceId}', 'remittance:{remittanceId}')");
    }

    /// <summary>One journal entry's postings as "account amount", credits first (sorted by amount).</summary>
    private async Task<string[]> PostingsAsync(string entryId)
    {
        Assert.Matches("^[a-z:-]+rm[0-9a-f]{24}$", entryId);
        return await fixture.Database.ScalarAsync<string[]>(
            $"SELECT coalesce(array_agg(account || ' ' || amount ORDER BY amount, account), '{{}}') FROM ledger_posting WHERE entry_id = '{entryId}'");
    }

    /// <summary>The ledger check once no recharge or remittance is in flight (so the corporate account can be compared).</summary>
    private async Task<JsonElement> SettledCheckAsync(MyPayApp? node = null)
    {
        using var operatorClient = await (node ?? app).OperatorAsync();
        for (var attempt = 0; attempt < 150; attempt++)
        {
            var check = await operatorClient.GetFromJsonAsync<JsonElement>("/v1/ledger/check");
            if (check.GetProperty("remittancesInFlight").GetInt64() == 0 && check.GetProperty("rechargesInFlight").GetInt64() == 0)
            {
                return check;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException("Recharges or remittances were still in flight after 15 seconds.");
    }

    /// <summary>Polls a remittance until it is completed, voided or failed.</summary>
    private static async Task<JsonElement> FinalAsync(HttpClient client, string path)
    {
        for (var attempt = 0; attempt < 300; attempt++)
        {
            var remittance = await client.GetFromJsonAsync<JsonElement>(path);
            if (remittance.GetProperty("status").GetString() is "completed" or "voided" or "failed")
            {
                return remittance;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"{path} was not final within 30 seconds.");
    }

    [GeneratedRegex("^rm[0-9a-f]{24}$")]
    private static partial Regex RemittanceIdPattern();

    private sealed record Isolated(BankFixture Bank, MyPayApp App) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await App.DisposeAsync();
            await Bank.DisposeAsync();
        }
    }
}
