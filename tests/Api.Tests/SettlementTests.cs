using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using MyPay.Grains.Settlement;
using Orleans;

namespace MyPay.Api.Tests;

/// <summary>Settling merchants (정산): each is paid exactly what it is owed, once per period, and nothing is lost when it cannot be paid yet.</summary>
public sealed class SettlementTests(BankFixture fixture) : IClassFixture<BankFixture>, IAsyncLifetime
{
    private MyPayApp app = null!;
    private HttpClient operatorClient = null!;

    public async Task InitializeAsync()
    {
        await fixture.ClearFaultsAsync();
        app = new MyPayApp(fixture.Database.ConnectionString, fixture.Bank.BaseAddress, new Dictionary<string, string> { ["Settlement:RetryInterval"] = "00:00:01" });
        (await app.CreateReadyClientAsync()).Dispose();
        operatorClient = await app.OperatorAsync();
    }

    public async Task DisposeAsync()
    {
        operatorClient.Dispose();
        await app.DisposeAsync();
    }

    [Fact]
    public async Task TenThousandPaymentsOverAHundredMerchants_WithRefundsAndACommissionChangeMidway_EachMerchantReceivesExactlyItsNet()
    {
        var merchants = new List<MyPayApp.Member>();
        foreach (var chunk in Enumerable.Range(0, 100).Chunk(20))
        {
            merchants.AddRange(await Task.WhenAll(chunk.Select(i => MerchantAsync($"상점 {i}"))));
        }

        var payers = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => fixture.MemberWithWalletAsync(app, 2_000_000)));
        var owed = merchants.ToDictionary(merchant => merchant.Id, _ => 0L);
        var paymentsByMerchant = merchants.ToDictionary(merchant => merchant.Id, _ => 0);

        // Each payer pays the merchants in turn, 250 payments per phase; between the phases the default rate and one
        // merchant's own rate change. Every 40th payment is then half refunded by its merchant.
        async Task<List<(MyPayApp.Member Merchant, JsonElement Paid)>> PhaseAsync(int phase) =>
            [.. (await Task.WhenAll(payers.Select(async (payer, p) =>
            {
                var paid = new List<(MyPayApp.Member, JsonElement)>();
                for (var i = 0; i < 250; i++)
                {
                    var merchant = merchants[(p * 250 + i) % merchants.Count];
                    using var response = await payer.Client.PayAsync(merchant.Id, 100 + ((p * 7919 + i * 104_729 + phase) % 2_900), $"pay-{phase}-{i}");
                    Assert.Equal(HttpStatusCode.Created, response.StatusCode);
                    paid.Add((merchant, await response.Content.ReadFromJsonAsync<JsonElement>()));
                }

                return paid;
            }))).SelectMany(paid => paid)];

        var payments = await PhaseAsync(1);
        using (var rate = await operatorClient.PutAsJsonAsync("/v1/commission/default", new { rateBps = 310 }))
        using (var own = await operatorClient.PutAsJsonAsync($"/v1/merchants/{merchants[0].Id}/commission", new { rateBps = 90 }))
        {
            rate.EnsureSuccessStatusCode();
            own.EnsureSuccessStatusCode();
        }

        payments.AddRange(await PhaseAsync(2));
        Assert.Equal(10_000, payments.Count);
        Assert.Contains(payments, payment => payment.Paid.GetProperty("commission").GetInt64() * 10_000 / payment.Paid.GetProperty("amount").GetInt64() is >= 300);
        foreach (var (merchant, paid) in payments)
        {
            owed[merchant.Id] += paid.GetProperty("net").GetInt64();
            paymentsByMerchant[merchant.Id]++;
        }

        var refunds = payments.Where((_, index) => index % 40 == 0).ToList();
        foreach (var chunk in refunds.Chunk(25))
        {
            await Task.WhenAll(chunk.Select(async payment =>
            {
                var paymentId = payment.Paid.GetProperty("paymentId").GetString()!;
                var refunded = await RefundAsync(payment.Merchant.Client, paymentId, payment.Paid.GetProperty("amount").GetInt64() / 2);
                lock (owed)
                {
                    owed[payment.Merchant.Id] -= refunded.GetProperty("amount").GetInt64() - refunded.GetProperty("commission").GetInt64();
                }
            }));
        }

        var run = await RunAsync();

        var ours = merchants.Select(merchant => merchant.Id).ToHashSet();
        var settlements = run.GetProperty("settlements").EnumerateArray().Where(settlement => ours.Contains(settlement.GetProperty("merchantId").GetString()!)).ToList();
        Assert.Equal(100, settlements.Count);
        Assert.All(settlements, settlement => Assert.Equal("paid", settlement.GetProperty("status").GetString()));
        foreach (var merchant in merchants)
        {
            Assert.Equal(owed[merchant.Id], await fixture.BalanceAsync(merchant.BankCode!, merchant.AccountNumber!));
            var settlement = settlements.Single(settlement => settlement.GetProperty("merchantId").GetString() == merchant.Id);
            Assert.Equal(owed[merchant.Id], settlement.GetProperty("net").GetInt64());
            Assert.Equal(paymentsByMerchant[merchant.Id] + refunds.Count(refund => refund.Merchant.Id == merchant.Id), settlement.GetProperty("items").GetInt32());
        }

        var check = await CheckAsync();
        Assert.True(check.GetProperty("consistent").GetBoolean(), check.ToString());
        Assert.True(check.GetProperty("corporateMatchesBank").GetBoolean(), check.ToString());
        var reconciliation = await operatorClient.GetFromJsonAsync<JsonElement>("/v1/reconciliation");
        Assert.True(reconciliation.GetProperty("consistent").GetBoolean(), reconciliation.ToString());
        Assert.True(reconciliation.GetProperty("matched").GetInt32() >= 120, reconciliation.ToString());
        Assert.Equal(
            reconciliation.GetProperty("bankBalance").GetInt64() - reconciliation.GetProperty("bankOpening").GetInt64(),
            reconciliation.GetProperty("ledgerCorporateCash").GetInt64());

        // A second run finds nothing left to settle: nobody is paid twice.
        var again = await RunAsync();
        Assert.Empty(again.GetProperty("settlements").EnumerateArray());
        Assert.Equal(owed[merchants[0].Id], await fixture.BalanceAsync(merchants[0].BankCode!, merchants[0].AccountNumber!));
    }

    [Fact]
    public async Task SettlementLines_ShowEachPaymentsCommission_AndTheMerchantSeesOnlyItsOwn()
    {
        var payer = await fixture.MemberWithWalletAsync(app, 100_000);
        var merchant = await MerchantAsync("줄 상점");
        using (var rate = await operatorClient.PutAsJsonAsync($"/v1/merchants/{merchant.Id}/commission", new { rateBps = 500 }))
        {
            rate.EnsureSuccessStatusCode();
        }

        var paymentId = await PayAsync(payer, merchant, 10_000, "line-1");
        Assert.Equal(JsonValueKind.Null, (await merchant.Client.GetFromJsonAsync<JsonElement>($"/v1/payments/{paymentId}")).GetProperty("settlementId").ValueKind);

        var settlementId = SettlementOf(await RunAsync(), merchant.Id).GetProperty("settlementId").GetString()!;

        Assert.Equal(settlementId, (await merchant.Client.GetFromJsonAsync<JsonElement>($"/v1/payments/{paymentId}")).GetProperty("settlementId").GetString());
        var asMerchant = await merchant.Client.GetFromJsonAsync<JsonElement>($"/v1/settlements/{Uri.EscapeDataString(settlementId)}");
        var line = Assert.Single(asMerchant.GetProperty("lines").EnumerateArray());
        Assert.Equal("payment", line.GetProperty("kind").GetString());
        Assert.Equal(paymentId, line.GetProperty("paymentId").GetString());
        Assert.Equal(10_000, line.GetProperty("amount").GetInt64());
        Assert.Equal(500, line.GetProperty("commission").GetInt64());
        Assert.Equal(9_500, line.GetProperty("net").GetInt64());
        var own = await merchant.Client.GetFromJsonAsync<JsonElement[]>($"/v1/merchants/{merchant.Id}/settlements");
        Assert.Equal(settlementId, Assert.Single(own!).GetProperty("settlementId").GetString());
        var listed = await operatorClient.GetFromJsonAsync<JsonElement[]>("/v1/settlements");
        Assert.Contains(listed!, run => run.GetProperty("settlements").EnumerateArray().Any(s => s.GetProperty("settlementId").GetString() == settlementId));

        using var asPayer = await payer.Client.GetAsync(new Uri($"/v1/settlements/{Uri.EscapeDataString(settlementId)}", UriKind.Relative));
        await asPayer.AssertProblemAsync(404);
        using var othersList = await payer.Client.GetAsync(new Uri($"/v1/merchants/{merchant.Id}/settlements", UriKind.Relative));
        await othersList.AssertProblemAsync(403);
        using var listByMember = await merchant.Client.GetAsync(new Uri("/v1/settlements", UriKind.Relative));
        Assert.Equal(HttpStatusCode.Forbidden, listByMember.StatusCode);
        using var runByMember = await merchant.Client.PostAsync(new Uri("/v1/settlements/run", UriKind.Relative), null);
        Assert.Equal(HttpStatusCode.Forbidden, runByMember.StatusCode);
    }

    [Fact]
    public async Task RefundAfterSettlement_NetsAgainstTheNextPeriod_ANegativePeriodIsCarried_NeverLost()
    {
        var payer = await fixture.MemberWithWalletAsync(app, 100_000);
        var merchant = await MerchantAsync("환불 상점");
        using var operatorRate = await operatorClient.PutAsJsonAsync($"/v1/merchants/{merchant.Id}/commission", new { rateBps = 250 });
        var firstPaymentId = await PayAsync(payer, merchant, 10_000, "first");
        Assert.Equal(9_750, SettlementOf(await RunAsync(), merchant.Id).GetProperty("net").GetInt64());

        await RefundAsync(merchant.Client, firstPaymentId, 10_000);
        var carried = SettlementOf(await RunAsync(), merchant.Id);

        Assert.Equal("carried", carried.GetProperty("status").GetString());
        Assert.Equal(-9_750, carried.GetProperty("net").GetInt64());
        Assert.Equal(9_750, await fixture.BalanceAsync(merchant.BankCode!, merchant.AccountNumber!));

        await PayAsync(payer, merchant, 20_000, "second");
        var next = SettlementOf(await RunAsync(), merchant.Id);

        Assert.Equal("paid", next.GetProperty("status").GetString());
        Assert.Equal(19_500 - 9_750, next.GetProperty("net").GetInt64());
        Assert.Equal(19_500, await fixture.BalanceAsync(merchant.BankCode!, merchant.AccountNumber!));
        var lines = (await operatorClient.GetFromJsonAsync<JsonElement>($"/v1/settlements/{Uri.EscapeDataString(next.GetProperty("settlementId").GetString()!)}"))
            .GetProperty("lines").EnumerateArray().ToList();
        Assert.Equal(["refund", "payment"], lines.Select(line => line.GetProperty("kind").GetString()));
        Assert.Equal(-250, lines[0].GetProperty("commission").GetInt64());
        var check = await CheckAsync();
        Assert.True(check.GetProperty("consistent").GetBoolean(), check.ToString());
        Assert.True(check.GetProperty("corporateMatchesBank").GetBoolean(), check.ToString());
    }

    [Fact]
    public async Task MerchantWithoutAccount_StaysPending_AndIsPaidByTheRetryAfterLinkingOne()
    {
        var payer = await fixture.MemberWithWalletAsync(app, 100_000);
        var merchant = await app.RegisterAsync("merchant", "계좌 없는 상점");
        using var rate = await operatorClient.PutAsJsonAsync($"/v1/merchants/{merchant.Id}/commission", new { rateBps = 0 });
        await PayAsync(payer, merchant, 30_000, "before-linking");

        var pending = SettlementOf(await RunAsync(), merchant.Id);

        Assert.Equal("pending", pending.GetProperty("status").GetString());
        Assert.Equal("no-linked-account", pending.GetProperty("failureReason").GetString());
        var (bankCode, accountNumber) = await fixture.OpenAccountAsync("계좌 없는 상점", 0);
        using (var linked = await merchant.Client.PostAsJsonAsync($"/v1/members/{merchant.Id}/bank-accounts", new { bankCode, accountNumber }))
        {
            linked.EnsureSuccessStatusCode();
        }

        // No second run: the merchant's own reminder tries again (every second here).
        var deadline = DateTime.UtcNow.AddSeconds(30);
        JsonElement settlement;
        do
        {
            await Task.Delay(200);
            settlement = Assert.Single((await merchant.Client.GetFromJsonAsync<JsonElement[]>($"/v1/merchants/{merchant.Id}/settlements"))!);
        }
        while (settlement.GetProperty("status").GetString() != "paid" && DateTime.UtcNow < deadline);

        Assert.Equal("paid", settlement.GetProperty("status").GetString());
        Assert.Equal(30_000, await fixture.BalanceAsync(bankCode, accountNumber));
        Assert.True((await CheckAsync()).GetProperty("consistent").GetBoolean());
    }

    [Fact]
    public async Task OnePeriod_SettledTwiceAtOnce_PaysEachMerchantOnce()
    {
        var payer = await fixture.MemberWithWalletAsync(app, 100_000);
        var merchants = await Task.WhenAll(Enumerable.Range(0, 5).Select(i => MerchantAsync($"중복 상점 {i}")));
        foreach (var merchant in merchants)
        {
            using var rate = await operatorClient.PutAsJsonAsync($"/v1/merchants/{merchant.Id}/commission", new { rateBps = 100 });
            await PayAsync(payer, merchant, 10_000, $"twice-{merchant.Id}");
        }

        // What two nodes firing the same reminder do: settle the same period, at the same moment.
        var schedule = app.Services.GetRequiredService<IGrainFactory>().GetGrain<ISettlementScheduleGrain>(ISettlementScheduleGrain.Key);
        var period = SettlementOptions.Ending(DateTimeOffset.UtcNow);
        var runs = await Task.WhenAll(schedule.Run(period), schedule.Run(period), schedule.Run(period));

        foreach (var merchant in merchants)
        {
            Assert.Equal(9_900, await fixture.BalanceAsync(merchant.BankCode!, merchant.AccountNumber!));
            Assert.Single(runs.SelectMany(run => run.Settlements), settlement => settlement.MerchantId == merchant.Id);
        }
    }

    [Fact]
    public async Task Reconciliation_ListsAPayoutTheBankMadeAndTheLedgerHasNotPosted_AndItsUnresolvedCommand_UntilTheRetryPostsIt()
    {
        var payer = await fixture.MemberWithWalletAsync(app, 100_000);
        var merchant = await MerchantAsync("대사 상점", bankCode: "020");
        using var rate = await operatorClient.PutAsJsonAsync($"/v1/merchants/{merchant.Id}/commission", new { rateBps = 0 });
        await PayAsync(payer, merchant, 40_000, "reconciled");
        Assert.True((await ReconcileAsync()).GetProperty("consistent").GetBoolean());

        // The merchant's bank moves the money and every answer is lost: MyPay does not know it paid.
        await fixture.SetFaultsAsync("020", lostResponseRate: 1.0);
        var sending = SettlementOf(await RunAsync(), merchant.Id);
        Assert.Equal("sending", sending.GetProperty("status").GetString());
        var requestId = sending.GetProperty("firmbankingRequestId").GetString();

        var reconciliation = await ReconcileAsync();

        Assert.False(reconciliation.GetProperty("consistent").GetBoolean());
        var unmatched = Assert.Single(reconciliation.GetProperty("unmatched").EnumerateArray());
        Assert.Equal(requestId, unmatched.GetProperty("requestId").GetString());
        Assert.Equal(-40_000, unmatched.GetProperty("bankAmount").GetInt64());
        Assert.Equal(JsonValueKind.Null, unmatched.GetProperty("ledgerAmount").ValueKind);
        var unresolved = Assert.Single(reconciliation.GetProperty("unresolved").EnumerateArray());
        Assert.Equal((requestId, "settlement", "unknown"), (unresolved.GetProperty("requestId").GetString(), unresolved.GetProperty("purpose").GetString(), unresolved.GetProperty("status").GetString()));

        // Once the bank answers, the merchant's reminder learns the payout happened and posts it: the two agree again.
        await fixture.ClearFaultsAsync();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!reconciliation.GetProperty("consistent").GetBoolean() && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200);
            reconciliation = await ReconcileAsync();
        }

        Assert.True(reconciliation.GetProperty("consistent").GetBoolean(), reconciliation.ToString());
        Assert.Equal(40_000, await fixture.BalanceAsync(merchant.BankCode!, merchant.AccountNumber!));
    }

    private async Task<JsonElement> ReconcileAsync() => await operatorClient.GetFromJsonAsync<JsonElement>("/v1/reconciliation");

    private Task<MyPayApp.Member> MerchantAsync(string name, string bankCode = "004") =>
        fixture.FundedMemberAsync(app, bankBalanceWon: 0, name, type: "merchant", bankCode);

    private static async Task<string> PayAsync(MyPayApp.Member payer, MyPayApp.Member merchant, long amountWon, string key)
    {
        using var paid = await payer.Client.PayAsync(merchant.Id, amountWon, key);
        paid.EnsureSuccessStatusCode();
        return (await paid.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("paymentId").GetString()!;
    }

    /// <summary>Refunds as the merchant (keyed by the payment: one refund per payment here) and returns the refund.</summary>
    private static async Task<JsonElement> RefundAsync(HttpClient merchant, string paymentId, long amountWon)
    {
        using var refunded = await merchant.RefundAsync(paymentId, amountWon, $"refund-{paymentId}");
        Assert.Equal(HttpStatusCode.Created, refunded.StatusCode);
        return await refunded.Content.ReadFromJsonAsync<JsonElement>();
    }

    private async Task<JsonElement> RunAsync()
    {
        using var response = await operatorClient.PostAsync(new Uri("/v1/settlements/run", UriKind.Relative), null);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    private static JsonElement SettlementOf(JsonElement run, string merchantId) =>
        Assert.Single(run.GetProperty("settlements").EnumerateArray(), settlement => settlement.GetProperty("merchantId").GetString() == merchantId);

    private async Task<JsonElement> CheckAsync() => await operatorClient.GetFromJsonAsync<JsonElement>("/v1/ledger/check");
}
