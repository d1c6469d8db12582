using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using MyPay.Grains;
using Orleans;
using Orleans.Runtime;

namespace MyPay.Api.Tests;

/// <summary>
/// The money rules that hold without exceptions: the balance cap binds every credit (a member's remittance, a refund, a
/// recharge, and the recharges still in flight) however requests interleave; a retried request is answered as the first
/// was, whatever changed since; keys MyPay derives for its own steps never meet a client's; and auto top-up serves
/// remittances as it serves payments; a key repeated after the retention of operation keys is refused with nothing moved.
/// Against the real bank simulator and PostgreSQL.
/// </summary>
public sealed class MoneyRuleTests(BankFixture fixture) : IClassFixture<BankFixture>, IAsyncLifetime
{
    private const string ProblemBase = "https://mypay.example/problems/";

    private const long CapWon = 2_000_000;

    private MyPayApp app = null!;

    public async Task InitializeAsync()
    {
        await fixture.ClearFaultsAsync();
        app = new MyPayApp(fixture.Database.ConnectionString, fixture.Bank.BaseAddress, new Dictionary<string, string>
        {
            ["Remittance:ResumeInterval"] = "00:00:01",
            ["Recharge:ResumeInterval"] = "00:00:01",
            ["Recharge:SynchronousWait"] = "00:00:04",
        });
        (await app.CreateReadyClientAsync()).Dispose();
    }

    public async Task DisposeAsync()
    {
        await fixture.ClearFaultsAsync();
        await app.DisposeAsync();
    }

    [Fact]
    public async Task Send_TenAtOnceIntoANearlyFullWallet_OnlyWhatFitsUnderTheCapLands_TheRestIs422AndMovesNothing()
    {
        // The recipient has room for five of the ten: each remittance reserves its room before its sender pays.
        var recipient = await MemberWithWalletAsync(CapWon - 50_000);
        var senders = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => MemberWithWalletAsync(50_000)));

        var responses = await Task.WhenAll(senders.Select(sender => sender.Client.SendToMemberAsync(recipient.Id, 10_000, $"near-cap-{sender.Id}")));

        Assert.Equal(5, responses.Count(response => response.StatusCode == HttpStatusCode.OK));
        foreach (var refused in responses.Where(response => response.StatusCode != HttpStatusCode.OK))
        {
            Assert.Equal(ProblemBase + "recipient-cap-exceeded", (await refused.AssertProblemAsync(422)).ProblemType());
        }

        Assert.Equal(CapWon, await recipient.Client.BalanceAsync(recipient.Id));
        var senderBalances = await Task.WhenAll(senders.Select(sender => sender.Client.BalanceAsync(sender.Id)));
        Assert.Equal((10 * 50_000) - 50_000, senderBalances.Sum());
        Assert.All(senderBalances, balance => Assert.Contains(balance, new long[] { 40_000, 50_000 }));
        await AssertLedgerConsistentAsync();
    }

    [Fact]
    public async Task Send_IntoAWalletWhoseRechargeIsStillWithTheBank_CountsThatRechargeAgainstTheCap()
    {
        var recipient = await MemberWithWalletAsync(CapWon - 50_000);
        var sender = await MemberWithWalletAsync(50_000);
        await fixture.SetFaultsAsync(recipient.BankCode!, latencyMs: 6_000);

        // The recharge fills the room while the bank takes its time: it answers 202 and stays in flight.
        using var recharging = await recipient.Client.RechargeAsync(recipient.Id, 50_000, "filling-recharge");
        Assert.Equal(HttpStatusCode.Accepted, recharging.StatusCode);
        using var sent = await sender.Client.SendToMemberAsync(recipient.Id, 10_000, "while-recharging");

        Assert.Equal(ProblemBase + "recipient-cap-exceeded", (await sent.AssertProblemAsync(422)).ProblemType());
        Assert.Equal(50_000, await sender.Client.BalanceAsync(sender.Id));
        await fixture.ClearFaultsAsync();
        await AssertLedgerConsistentAsync();
        Assert.Equal(CapWon, await recipient.Client.BalanceAsync(recipient.Id));
    }

    [Fact]
    public async Task Refund_IntoAFullWallet_Is422AndMovesNothing_ItsRetryAnswersAlike_AndASmallerPartLandsOnceThereIsRoom()
    {
        var payer = await MemberWithWalletAsync(100_000);
        var merchant = await app.RegisterAsync("merchant", "환불 상점");
        using var paid = await payer.Client.PayAsync(merchant.Id, 50_000, "pay-before-filling");
        var paymentId = (await paid.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("paymentId").GetString()!;
        await RechargeAsync(payer, CapWon - 50_000, expectedBalanceWon: CapWon);

        using var refused = await merchant.Client.RefundAsync(paymentId, 10_000, "refund-into-full");
        using var retried = await merchant.Client.RefundAsync(paymentId, 10_000, "refund-into-full");

        Assert.Equal(ProblemBase + "refund-above-balance-cap", (await refused.AssertProblemAsync(422)).ProblemType());
        Assert.Equal(ProblemBase + "refund-above-balance-cap", (await retried.AssertProblemAsync(422)).ProblemType());
        Assert.Equal(CapWon, await payer.Client.BalanceAsync(payer.Id));
        Assert.Equal(0, (await merchant.Client.GetFromJsonAsync<JsonElement>($"/v1/payments/{paymentId}")).GetProperty("refunded").GetInt64());

        // Once the payer spends, the refund fits; the refused one counted for nothing, so the whole payment remains.
        using var spent = await payer.Client.PayAsync(merchant.Id, 20_000, "make-room");
        using var refunded = await merchant.Client.RefundAsync(paymentId, 20_000, "refund-with-room");
        Assert.Equal(HttpStatusCode.Created, refunded.StatusCode);
        Assert.Equal(30_000, (await refunded.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("remaining").GetInt64());
        Assert.Equal(CapWon, await payer.Client.BalanceAsync(payer.Id));
        await AssertLedgerConsistentAsync();
    }

    [Fact]
    public async Task Retries_AfterTheMemberIsSuspended_AnswerTheFirstOutcome_PaymentRechargeAndRemittance()
    {
        var member = await MemberWithWalletAsync(100_000);
        var merchant = await app.RegisterAsync("merchant", "재시도 상점");
        var friend = await app.RegisterAsync();
        using var paid = await member.Client.PayAsync(merchant.Id, 10_000, "first-payment");
        using var recharged = await RechargeAsync(member, 10_000, expectedBalanceWon: 100_000, "first-recharge");
        using var sent = await member.Client.SendToMemberAsync(friend.Id, 10_000, "first-remittance");
        Assert.Equal(HttpStatusCode.Created, paid.StatusCode);
        Assert.Equal(HttpStatusCode.OK, sent.StatusCode);
        using var operatorClient = await app.OperatorAsync();
        using var suspended = await operatorClient.PatchAsJsonAsync($"/v1/members/{member.Id}", new { status = "suspended" });
        suspended.EnsureSuccessStatusCode();

        using var paidAgain = await member.Client.PayAsync(merchant.Id, 10_000, "first-payment");
        using var rechargedAgain = await member.Client.RechargeAsync(member.Id, 10_000, "first-recharge");
        using var sentAgain = await member.Client.SendToMemberAsync(friend.Id, 10_000, "first-remittance");
        using var fresh = await member.Client.PayAsync(merchant.Id, 10_000, "new-payment");

        Assert.Equal(HttpStatusCode.Created, paidAgain.StatusCode);
        Assert.Equal(await IdAsync(paid, "paymentId"), await IdAsync(paidAgain, "paymentId"));
        Assert.Contains(rechargedAgain.StatusCode, new[] { HttpStatusCode.OK, HttpStatusCode.Accepted });
        Assert.Equal(await IdAsync(recharged, "rechargeId"), await IdAsync(rechargedAgain, "rechargeId"));
        Assert.Equal(HttpStatusCode.OK, sentAgain.StatusCode);
        Assert.Equal(await IdAsync(sent, "remittanceId"), await IdAsync(sentAgain, "remittanceId"));
        Assert.Equal(ProblemBase + "member-suspended", (await fresh.AssertProblemAsync(403)).ProblemType());
        Assert.Equal(90_000, await operatorClient.BalanceAsync(member.Id));
        await AssertLedgerConsistentAsync();
    }

    [Fact]
    public async Task Pay_Retried_AfterTheBankAccountIsGone_AnswersThePaymentItsTopUpMade()
    {
        var payer = await MemberWithWalletAsync(0);
        var merchant = await app.RegisterAsync("merchant", "충전 상점");
        using var paid = await payer.Client.PayAsync(merchant.Id, 15_000, "topped-up-payment");
        Assert.Equal(HttpStatusCode.Created, paid.StatusCode);
        using var operatorClient = await app.OperatorAsync();
        using var suspended = await operatorClient.PatchAsJsonAsync($"/v1/members/{payer.Id}", new { status = "suspended" });
        suspended.EnsureSuccessStatusCode();

        using var again = await payer.Client.PayAsync(merchant.Id, 15_000, "topped-up-payment");

        Assert.Equal(HttpStatusCode.Created, again.StatusCode);
        Assert.Equal(await IdAsync(paid, "paymentId"), await IdAsync(again, "paymentId"));
        Assert.Equal(5_000, await operatorClient.BalanceAsync(payer.Id));
        await AssertLedgerConsistentAsync();
    }

    [Fact]
    public async Task ClientKeys_ShapedLikeTheKeysMyPayDerives_AreTheClientsOwn()
    {
        // A payment with a top-up derives keys for its inner steps from its own key; a client sending keys that look
        // like those (the old "key:auto-top-up" shape) gets requests of its own, never the payment's steps.
        var payer = await MemberWithWalletAsync(0);
        var merchant = await app.RegisterAsync("merchant", "키 상점");
        using var paid = await payer.Client.PayAsync(merchant.Id, 15_000, "shop");
        Assert.Equal(HttpStatusCode.Created, paid.StatusCode);

        using var recharge = await RechargeAsync(payer, 10_000, expectedBalanceWon: 15_000, "shop:auto-top-up");
        using var payment = await payer.Client.PayAsync(merchant.Id, 1_000, "shop:after-top-up");

        Assert.Equal(HttpStatusCode.Created, payment.StatusCode);
        Assert.Equal(5_000 + 10_000 - 1_000, await payer.Client.BalanceAsync(payer.Id));
        await AssertLedgerConsistentAsync();
    }

    [Fact]
    public async Task Send_FromAShortWalletWithALinkedAccount_TopsUpTheShortfallThenSends()
    {
        var sender = await MemberWithWalletAsync(0);
        var recipient = await app.RegisterAsync();

        using var sent = await sender.Client.SendToMemberAsync(recipient.Id, 15_000, "topped-up-remittance");

        Assert.Equal(HttpStatusCode.OK, sent.StatusCode);
        Assert.Equal(5_000, await sender.Client.BalanceAsync(sender.Id));
        Assert.Equal(15_000, await recipient.Client.BalanceAsync(recipient.Id));
        await AssertLedgerConsistentAsync();
    }

    [Fact]
    public async Task Pay_WhileItsTopUpIsStillWithTheBank_Is202PointingAtTheRecharge_AndTheRetryPaysOnce()
    {
        var payer = await MemberWithWalletAsync(0);
        var merchant = await app.RegisterAsync("merchant", "느린 은행 상점");
        await fixture.SetFaultsAsync(payer.BankCode!, latencyMs: 7_000);

        using var pending = await payer.Client.PayAsync(merchant.Id, 15_000, "slow-top-up");

        Assert.Equal(HttpStatusCode.Accepted, pending.StatusCode);
        var recharge = pending.Headers.Location!.OriginalString;
        Assert.StartsWith("/v1/recharges/", recharge, StringComparison.Ordinal);
        Assert.Equal(0, await payer.Client.BalanceAsync(payer.Id));
        await fixture.ClearFaultsAsync();
        await AssertLedgerConsistentAsync();
        Assert.Equal("succeeded", (await payer.Client.GetFromJsonAsync<JsonElement>(recharge)).GetProperty("status").GetString());

        using var paid = await payer.Client.PayAsync(merchant.Id, 15_000, "slow-top-up");
        using var paidAgain = await payer.Client.PayAsync(merchant.Id, 15_000, "slow-top-up");

        Assert.Equal(HttpStatusCode.Created, paid.StatusCode);
        Assert.Equal(await IdAsync(paid, "paymentId"), await IdAsync(paidAgain, "paymentId"));
        Assert.Equal(5_000, await payer.Client.BalanceAsync(payer.Id));
        await AssertLedgerConsistentAsync();
    }

    [Fact]
    public async Task Pay_RepeatedAfterTheRetention_Is422KeyExpired_MovesNothing_AndPaymentsAtTheSameMomentSucceed()
    {
        var payer = await MemberWithWalletAsync(100_000);
        var merchant = await app.RegisterAsync("merchant", "오래된 키 상점");
        var others = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => MemberWithWalletAsync(10_000)));
        using var paid = await payer.Client.PayAsync(merchant.Id, 10_000, "old-payment");
        Assert.Equal(HttpStatusCode.Created, paid.StatusCode);
        await ForgetOperationKeysAsync(payer.Id);

        // The same body, and another, each beside payments of other members made at the same moment.
        foreach (var amountWon in new long[] { 10_000, 20_000 })
        {
            var repeat = payer.Client.PayAsync(merchant.Id, amountWon, "old-payment");
            var unrelated = others.Select(other => other.Client.PayAsync(merchant.Id, 1_000, $"unrelated-{amountWon}-{other.Id}")).ToList();

            using var refused = await repeat;
            Assert.Equal(ProblemBase + "idempotency-key-expired", (await refused.AssertProblemAsync(422)).ProblemType());
            foreach (var response in await Task.WhenAll(unrelated))
            {
                Assert.Equal(HttpStatusCode.Created, response.StatusCode);
                response.Dispose();
            }
        }

        Assert.Equal(90_000, await payer.Client.BalanceAsync(payer.Id));
        Assert.All(await Task.WhenAll(others.Select(other => other.Client.BalanceAsync(other.Id))), balance => Assert.Equal(8_000, balance));
        Assert.Equal(1, await fixture.Database.ScalarAsync<long>($"SELECT count(*) FROM payment WHERE payer_id = '{payer.Id}'"));
        await AssertLedgerConsistentAsync();
    }

    [Fact]
    public async Task Recharge_RepeatedAfterTheRetention_Is422KeyExpired_BeforeTheBankMovesAnyMoney()
    {
        var member = await MemberWithWalletAsync(0);
        using var recharged = await RechargeAsync(member, 50_000, expectedBalanceWon: 50_000, "old-recharge");
        await ForgetOperationKeysAsync(member.Id);
        var bankBalanceWon = await fixture.BalanceAsync(member.BankCode!, member.AccountNumber!);
        var corporateWon = await fixture.CorporateBalanceAsync();

        using var repeated = await member.Client.RechargeAsync(member.Id, 50_000, "old-recharge");
        using var otherBody = await member.Client.RechargeAsync(member.Id, 30_000, "old-recharge");

        Assert.Equal(ProblemBase + "idempotency-key-expired", (await repeated.AssertProblemAsync(422)).ProblemType());
        Assert.Equal(ProblemBase + "idempotency-key-expired", (await otherBody.AssertProblemAsync(422)).ProblemType());
        await AssertLedgerConsistentAsync();
        Assert.Equal(50_000, await member.Client.BalanceAsync(member.Id));
        Assert.Equal(bankBalanceWon, await fixture.BalanceAsync(member.BankCode!, member.AccountNumber!));
        Assert.Equal(corporateWon, await fixture.CorporateBalanceAsync());
        Assert.Equal(1, await fixture.Database.ScalarAsync<long>($"SELECT count(*) FROM recharge WHERE member_id = '{member.Id}'"));
    }

    [Fact]
    public async Task Send_UnderAKeyAPaymentUsedBeforeTheRetention_Is422KeyExpired_AndMovesNothing()
    {
        // Within the retention this is the same key with another body (422 idempotency-key-reused); after it, the payment's
        // ledger entry still holds the key, and the remittance must not be left pending for ever.
        var sender = await MemberWithWalletAsync(100_000);
        var merchant = await app.RegisterAsync("merchant", "송금 전 상점");
        var friend = await app.RegisterAsync();
        using var paid = await sender.Client.PayAsync(merchant.Id, 10_000, "spent-key");
        Assert.Equal(HttpStatusCode.Created, paid.StatusCode);
        await ForgetOperationKeysAsync(sender.Id);

        using var sent = await sender.Client.SendToMemberAsync(friend.Id, 10_000, "spent-key");
        using var again = await sender.Client.SendToMemberAsync(friend.Id, 10_000, "spent-key");

        Assert.Equal(ProblemBase + "idempotency-key-expired", (await sent.AssertProblemAsync(422)).ProblemType());
        Assert.Equal(ProblemBase + "idempotency-key-expired", (await again.AssertProblemAsync(422)).ProblemType());
        Assert.Equal(90_000, await sender.Client.BalanceAsync(sender.Id));
        Assert.Equal(0, await friend.Client.BalanceAsync(friend.Id));
        await AssertLedgerConsistentAsync();
    }

    [Fact]
    public async Task IdempotencyKeyConstraints_NameTheUniqueKeysOfTheSchema()
    {
        foreach (var name in IdempotencyKeyConstraints.Names)
        {
            Assert.Equal(1, await fixture.Database.ScalarAsync<long>($"SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = '{name}' AND i.indisunique"));
        }
    }

    /// <summary>
    /// What the retention leaves of a member's requests made long ago: their operation keys deleted, as the prune
    /// deletes them, and the wallet's activation (which remembers recent keys) collected, as an idle one is.
    /// </summary>
    private async Task ForgetOperationKeysAsync(string memberId)
    {
        Assert.True(await fixture.Database.ScalarAsync<long>($"""
            WITH pruned AS (DELETE FROM silo_grain_operation WHERE grain_type = 'wallet' AND grain_key = '{memberId}' RETURNING 1)
            SELECT count(*) FROM pruned
            """) > 0);
        await app.Services.GetRequiredService<IGrainFactory>().GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);
    }

    /// <summary>
    /// A customer with a linked account and this much in the wallet. This class waits only 4 s for the bank (its tests
    /// need a top-up to outlast the wait), so a seeding recharge on a busy machine may answer 202: it is waited for.
    /// </summary>
    private async Task<MyPayApp.Member> MemberWithWalletAsync(long walletWon)
    {
        var member = await fixture.FundedMemberAsync(app, bankBalanceWon: 10_000_000);
        if (walletWon > 0)
        {
            (await RechargeAsync(member, walletWon, expectedBalanceWon: walletWon)).Dispose();
        }

        return member;
    }

    /// <summary>Recharges and waits until the wallet holds <paramref name="expectedBalanceWon"/> (the bank may answer after the wait: 202).</summary>
    private static async Task<HttpResponseMessage> RechargeAsync(MyPayApp.Member member, long amountWon, long expectedBalanceWon, string? key = null)
    {
        var recharged = await member.Client.RechargeAsync(member.Id, amountWon, key ?? $"recharge-{Guid.NewGuid():N}");
        Assert.Contains(recharged.StatusCode, new[] { HttpStatusCode.OK, HttpStatusCode.Accepted });
        for (var attempt = 0; attempt < 300 && await member.Client.BalanceAsync(member.Id) != expectedBalanceWon; attempt++)
        {
            await Task.Delay(100);
        }

        Assert.Equal(expectedBalanceWon, await member.Client.BalanceAsync(member.Id));
        return recharged;
    }

    private static async Task<string> IdAsync(HttpResponseMessage response, string property) =>
        (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty(property).GetString()!;

    /// <summary>Waits for recharges and remittances in flight to finish, then asserts the ledger check is consistent.</summary>
    private async Task AssertLedgerConsistentAsync()
    {
        using var operatorClient = await app.OperatorAsync();
        for (var attempt = 0; attempt < 300; attempt++)
        {
            var check = await operatorClient.GetFromJsonAsync<JsonElement>("/v1/ledger/check");
            if (check.GetProperty("remittancesInFlight").GetInt64() == 0 && check.GetProperty("rechargesInFlight").GetInt64() == 0)
            {
                Assert.True(check.GetProperty("consistent").GetBoolean(), check.ToString());
                return;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException("Recharges or remittances were still in flight after 30 seconds.");
    }
}
