using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace MyPay.Api.Tests;

/// <summary>Paying merchants: commission, the ledger entry, auto top-up, idempotency, refusals and who sees what.</summary>
public sealed class PaymentTests(BankFixture fixture) : IClassFixture<BankFixture>, IAsyncLifetime
{
    private MyPayApp app = null!;

    public async Task InitializeAsync()
    {
        await fixture.ClearFaultsAsync();
        app = new MyPayApp(fixture.Database.ConnectionString, fixture.Bank.BaseAddress);
        (await app.CreateReadyClientAsync()).Dispose();
    }

    public async Task DisposeAsync() => await app.DisposeAsync();

    private async Task<JsonElement> CheckAsync()
    {
        using var operatorClient = await app.OperatorAsync();
        return await operatorClient.GetFromJsonAsync<JsonElement>("/v1/ledger/check");
    }

    [Fact]
    public async Task Pay_DebitsPayer_TakesDefaultCommission_AndIsOneBalancedEntry()
    {
        var payer = await fixture.MemberWithWalletAsync(app, 100_000);
        var merchant = await app.RegisterAsync("merchant", "동네 빵집");

        using var response = await payer.Client.PayAsync(merchant.Id, 10_000, "p1", orderId: "order-7");

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var paid = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(250, paid.GetProperty("commission").GetInt64());
        Assert.Equal(9_750, paid.GetProperty("net").GetInt64());
        Assert.Equal(90_000, paid.GetProperty("balance").GetInt64());
        Assert.Equal(90_000, await payer.Client.BalanceAsync(payer.Id));
        var check = await CheckAsync();
        Assert.True(check.GetProperty("consistent").GetBoolean(), check.ToString());

        var paymentId = paid.GetProperty("paymentId").GetString();
        var asMerchant = await merchant.Client.GetFromJsonAsync<JsonElement>($"/v1/payments/{paymentId}");
        Assert.Equal(250, asMerchant.GetProperty("commissionBps").GetInt64());
        Assert.Equal("order-7", asMerchant.GetProperty("orderId").GetString());
        var history = await payer.Client.GetFromJsonAsync<JsonElement>($"/v1/members/{payer.Id}/wallet/history?limit=1");
        var latest = history.GetProperty("items")[0];
        Assert.Equal("payment", latest.GetProperty("kind").GetString());
        Assert.Equal(-10_000, latest.GetProperty("amount").GetInt64());
        Assert.Equal(90_000, latest.GetProperty("balanceAfter").GetInt64());
    }

    [Theory]
    [InlineData(0, 10_000, 0)]
    [InlineData(10_000, 10_000, 10_000)]
    [InlineData(250, 1, 0)]
    [InlineData(9_999, 1, 0)]
    [InlineData(333, 10_001, 333)]
    public async Task Pay_CommissionIsFloorOfAmountTimesRate(long rateBps, long amountWon, long expectedCommissionWon)
    {
        var payer = await fixture.MemberWithWalletAsync(app, 20_000);
        var merchant = await app.RegisterAsync("merchant", "상점");
        using var operatorClient = await app.OperatorAsync();
        using var set = await operatorClient.PutAsJsonAsync($"/v1/merchants/{merchant.Id}/commission", new { rateBps });
        set.EnsureSuccessStatusCode();

        using var response = await payer.Client.PayAsync(merchant.Id, amountWon, $"rate-{rateBps}-{amountWon}");

        var paid = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(expectedCommissionWon, paid.GetProperty("commission").GetInt64());
        Assert.Equal(amountWon - expectedCommissionWon, paid.GetProperty("net").GetInt64());
        Assert.True((await CheckAsync()).GetProperty("consistent").GetBoolean());
    }

    [Fact]
    public async Task Pay_RateChange_AppliesToLaterPaymentsOnly()
    {
        var payer = await fixture.MemberWithWalletAsync(app, 100_000);
        var merchant = await app.RegisterAsync("merchant", "꽃집");
        using var before = await payer.Client.PayAsync(merchant.Id, 10_000, "before");
        using var operatorClient = await app.OperatorAsync();
        using var set = await operatorClient.PutAsJsonAsync($"/v1/merchants/{merchant.Id}/commission", new { rateBps = 1_000 });

        using var after = await payer.Client.PayAsync(merchant.Id, 10_000, "after");

        var first = await before.Content.ReadFromJsonAsync<JsonElement>();
        var second = await after.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(250, first.GetProperty("commission").GetInt64());
        Assert.Equal(1_000, second.GetProperty("commission").GetInt64());
        var stored = await payer.Client.GetFromJsonAsync<JsonElement>($"/v1/payments/{first.GetProperty("paymentId").GetString()}");
        Assert.Equal(250, stored.GetProperty("commissionBps").GetInt64());
    }

    [Fact]
    public async Task Pay_SameKeyTwice_PaysOnceAndAnswersAlike_OtherBodyIs422()
    {
        var payer = await fixture.MemberWithWalletAsync(app, 100_000);
        var merchant = await app.RegisterAsync("merchant", "카페");

        var responses = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => payer.Client.PayAsync(merchant.Id, 10_000, "once")));
        using var other = await payer.Client.PayAsync(merchant.Id, 20_000, "once");

        var bodies = await Task.WhenAll(responses.Select(response => response.Content.ReadAsStringAsync()));
        Assert.All(responses, response => Assert.Equal(HttpStatusCode.Created, response.StatusCode));
        Assert.Single(bodies.Distinct());
        Assert.Equal(90_000, await payer.Client.BalanceAsync(payer.Id));
        await other.AssertProblemAsync(422);
    }

    [Fact]
    public async Task Pay_Short_TopsUpTheShortfallRoundedUp_ThenPays()
    {
        var payer = await fixture.MemberWithWalletAsync(app, 10_000);
        var merchant = await app.RegisterAsync("merchant", "편의점");

        using var response = await payer.Client.PayAsync(merchant.Id, 25_500, "top-up");

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var paid = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(20_000, paid.GetProperty("toppedUp").GetInt64());
        Assert.Equal(4_500, await payer.Client.BalanceAsync(payer.Id));
        Assert.Equal(10_000_000 - 30_000, await fixture.BalanceAsync(payer.BankCode!, payer.AccountNumber!));

        // A retry neither tops up nor pays again.
        using var retry = await payer.Client.PayAsync(merchant.Id, 25_500, "top-up");
        Assert.Equal(4_500, await payer.Client.BalanceAsync(payer.Id));
        Assert.Equal(10_000_000 - 30_000, await fixture.BalanceAsync(payer.BankCode!, payer.AccountNumber!));
    }

    [Fact]
    public async Task Pay_Short_TopUpRefusedByTheBank_FailsAndDebitsNothing()
    {
        var payer = await fixture.FundedMemberAsync(app, bankBalanceWon: 5_000);
        var merchant = await app.RegisterAsync("merchant", "문구점");

        using var response = await payer.Client.PayAsync(merchant.Id, 8_000, "poor");

        Assert.EndsWith("top-up-failed", (await response.AssertProblemAsync(422)).ProblemType(), StringComparison.Ordinal);
        Assert.Equal(0, await payer.Client.BalanceAsync(payer.Id));
        Assert.Equal(5_000, await fixture.BalanceAsync(payer.BankCode!, payer.AccountNumber!));
    }

    [Fact]
    public async Task Pay_ShortWithoutLinkedAccount_Is422InsufficientFunds()
    {
        var payer = await app.RegisterAsync();
        var merchant = await app.RegisterAsync("merchant", "가게");

        using var response = await payer.Client.PayAsync(merchant.Id, 1_000, "none");

        Assert.EndsWith("insufficient-funds", (await response.AssertProblemAsync(422)).ProblemType(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Pay_Refusals_AreProblemsAndChangeNothing()
    {
        var payer = await fixture.MemberWithWalletAsync(app, 50_000);
        var customer = await app.RegisterAsync();
        var merchant = await app.RegisterAsync("merchant", "정지된 상점");
        using var operatorClient = await app.OperatorAsync();
        using var suspend = await operatorClient.PatchAsJsonAsync($"/v1/members/{merchant.Id}", new { status = "suspended" });

        using var toCustomer = await payer.Client.PayAsync(customer.Id, 1_000, "customer");
        using var toSuspended = await payer.Client.PayAsync(merchant.Id, 1_000, "suspended");
        using var toSelf = await payer.Client.PayAsync(payer.Id, 1_000, "self");
        using var toNobody = await payer.Client.PayAsync("m00000000000000000000", 1_000, "nobody");
        using var byOperator = await operatorClient.PayAsync(merchant.Id, 1_000, "operator");

        Assert.EndsWith("not-a-merchant", (await toCustomer.AssertProblemAsync(422)).ProblemType(), StringComparison.Ordinal);
        Assert.EndsWith("merchant-suspended", (await toSuspended.AssertProblemAsync(422)).ProblemType(), StringComparison.Ordinal);
        Assert.EndsWith("paying-self", (await toSelf.AssertProblemAsync(422)).ProblemType(), StringComparison.Ordinal);
        Assert.EndsWith("unknown-merchant", (await toNobody.AssertProblemAsync(422)).ProblemType(), StringComparison.Ordinal);
        await byOperator.AssertProblemAsync(403);
        Assert.Equal(50_000, await payer.Client.BalanceAsync(payer.Id));
    }

    [Fact]
    public async Task Pay_SuspendedPayer_Is403()
    {
        var payer = await fixture.MemberWithWalletAsync(app, 50_000);
        var merchant = await app.RegisterAsync("merchant", "상점");
        using var operatorClient = await app.OperatorAsync();
        using var suspend = await operatorClient.PatchAsJsonAsync($"/v1/members/{payer.Id}", new { status = "suspended" });

        using var response = await payer.Client.PayAsync(merchant.Id, 1_000, "suspended-payer");

        await response.AssertProblemAsync(403);
        Assert.Equal(50_000, await payer.Client.BalanceAsync(payer.Id));
    }

    [Theory]
    [InlineData("""{"merchantId":"m1","amount":0}""")]
    [InlineData("""{"merchantId":"m1","amount":-5}""")]
    [InlineData("""{"merchantId":"m1","amount":2000001}""")]
    [InlineData("""{"merchantId":"m1","amount":"1000"}""")]
    [InlineData("""{"merchantId":"bad id","amount":1000}""")]
    [InlineData("""{"amount":1000}""")]
    [InlineData("""{"merchantId":"m1"}""")]
    [InlineData("""{"merchantId":"m1","amount":1000,"orderId":""}""")]
    [InlineData("""not json""")]
    public async Task Pay_BadBody_Is400(string body)
    {
        var payer = await app.RegisterAsync();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/payments") { Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json") };
        request.Headers.Add("Idempotency-Key", "bad");

        using var response = await payer.Client.SendAsync(request);

        await response.AssertProblemAsync(400);
    }

    [Fact]
    public async Task Pay_WithoutKey_Is400_AndWithoutToken_Is401()
    {
        var payer = await fixture.MemberWithWalletAsync(app, 10_000);
        var merchant = await app.RegisterAsync("merchant", "상점");
        using var anonymous = app.CreateClient();

        using var noKey = await payer.Client.PayAsync(merchant.Id, 1_000, null);
        using var noToken = await anonymous.PayAsync(merchant.Id, 1_000, "k");

        await noKey.AssertProblemAsync(400);
        await noToken.AssertProblemAsync(401);
        Assert.Equal(10_000, await payer.Client.BalanceAsync(payer.Id));
    }

    [Fact]
    public async Task GetPayment_OthersSee404()
    {
        var payer = await fixture.MemberWithWalletAsync(app, 10_000);
        var merchant = await app.RegisterAsync("merchant", "상점");
        var stranger = await app.RegisterAsync();
        using var paid = await payer.Client.PayAsync(merchant.Id, 1_000, "seen");
        var paymentId = (await paid.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("paymentId").GetString();

        using var response = await stranger.Client.GetAsync(new Uri($"/v1/payments/{paymentId}", UriKind.Relative));

        await response.AssertProblemAsync(404);
    }

    [Fact]
    public async Task Commission_Endpoints_AreForOperatorsAndValidateTheRate()
    {
        var merchant = await app.RegisterAsync("merchant", "상점");
        using var operatorClient = await app.OperatorAsync();

        using var byMerchant = await merchant.Client.PutAsJsonAsync($"/v1/merchants/{merchant.Id}/commission", new { rateBps = 0 });
        using var tooHigh = await operatorClient.PutAsJsonAsync($"/v1/merchants/{merchant.Id}/commission", new { rateBps = 10_001 });
        using var negative = await operatorClient.PutAsJsonAsync("/v1/commission/default", new { rateBps = -1 });
        using var notMerchant = await operatorClient.PutAsJsonAsync($"/v1/merchants/{(await app.RegisterAsync()).Id}/commission", new { rateBps = 100 });

        await byMerchant.AssertProblemAsync(403);
        await tooHigh.AssertProblemAsync(400);
        await negative.AssertProblemAsync(400);
        await notMerchant.AssertProblemAsync(404);
    }

    [Fact]
    public async Task TwoHundredPayersFiftyPaymentsEachToOneMerchant_And_OnePayerTwoThousandPayments_BalancesExact()
    {
        // The hot spots: 200 payers × 50 payments to one merchant (they must not queue behind one merchant grain),
        // and one payer × 2,000 payments (serialised by its wallet, which must still batch). Every balance exact,
        // the ledger balanced, no wallet below zero.
        var merchant = await app.RegisterAsync("merchant", "인기 상점");
        var payers = new List<MyPayApp.Member>();
        foreach (var chunk in Enumerable.Range(0, 200).Chunk(25))
        {
            payers.AddRange(await Task.WhenAll(chunk.Select(_ => fixture.MemberWithWalletAsync(app, 50_000))));
        }

        var hot = await fixture.MemberWithWalletAsync(app, 2_000_000);

        var many = payers.SelectMany(payer => Enumerable.Range(0, 50).Select(i => payer.Client.PayAsync(merchant.Id, 1_000, $"many-{i}")));
        var single = Enumerable.Range(0, 2_000).Select(i => hot.Client.PayAsync(merchant.Id, 1_000, $"hot-{i}"));
        var responses = await Task.WhenAll(many.Concat(single));

        Assert.All(responses, response => Assert.Equal(HttpStatusCode.Created, response.StatusCode));
        foreach (var payer in payers)
        {
            Assert.Equal(0, await payer.Client.BalanceAsync(payer.Id));
        }

        Assert.Equal(0, await hot.Client.BalanceAsync(hot.Id));
        var check = await CheckAsync();
        Assert.True(check.GetProperty("consistent").GetBoolean(), check.ToString());
        Assert.Equal(0, check.GetProperty("total").GetInt64());
    }

    private async Task<(MyPayApp.Member Payer, MyPayApp.Member Merchant, string PaymentId)> PaidAsync(long amountWon, long rateBps = 250)
    {
        var payer = await fixture.MemberWithWalletAsync(app, 100_000);
        var merchant = await app.RegisterAsync("merchant", "환불 상점");
        using var operatorClient = await app.OperatorAsync();
        using var set = await operatorClient.PutAsJsonAsync($"/v1/merchants/{merchant.Id}/commission", new { rateBps });
        using var paid = await payer.Client.PayAsync(merchant.Id, amountWon, $"pay-{Guid.NewGuid():N}");
        paid.EnsureSuccessStatusCode();
        return (payer, merchant, (await paid.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("paymentId").GetString()!);
    }

    [Fact]
    public async Task Refund_Full_ReturnsEverythingAndReversesTheCommission()
    {
        var (payer, merchant, paymentId) = await PaidAsync(10_000);

        using var refunded = await merchant.Client.RefundAsync(paymentId, 10_000, "full");

        Assert.Equal(HttpStatusCode.Created, refunded.StatusCode);
        var body = await refunded.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(250, body.GetProperty("commission").GetInt64());
        Assert.Equal(0, body.GetProperty("remaining").GetInt64());
        Assert.Equal(100_000, await payer.Client.BalanceAsync(payer.Id));
        Assert.Equal(10_000, (await merchant.Client.GetFromJsonAsync<JsonElement>($"/v1/payments/{paymentId}")).GetProperty("refunded").GetInt64());
        Assert.True((await CheckAsync()).GetProperty("consistent").GetBoolean());
    }

    [Fact]
    public async Task Refund_Partials_ReverseCommissionInProportion_AndNeverMoreThanPaid()
    {
        var (payer, merchant, paymentId) = await PaidAsync(10_001, rateBps: 333);

        var commissions = new List<long>();
        foreach (var (amountWon, key) in new[] { (3_333L, "a"), (3_333L, "b"), (3_335L, "c") })
        {
            using var refunded = await merchant.Client.RefundAsync(paymentId, amountWon, key);
            Assert.Equal(HttpStatusCode.Created, refunded.StatusCode);
            commissions.Add((await refunded.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("commission").GetInt64());
        }

        using var beyond = await merchant.Client.RefundAsync(paymentId, 1, "d");

        Assert.Equal(333, commissions.Sum());
        Assert.EndsWith("refund-exceeds-payment", (await beyond.AssertProblemAsync(422)).ProblemType(), StringComparison.Ordinal);
        Assert.Equal(100_000, await payer.Client.BalanceAsync(payer.Id));
        Assert.True((await CheckAsync()).GetProperty("consistent").GetBoolean());
    }

    [Fact]
    public async Task Refund_Concurrent_NeverExceedThePayment_AndRepeatsAreIdempotent()
    {
        var (payer, merchant, paymentId) = await PaidAsync(10_000);

        var responses = await Task.WhenAll(Enumerable.Range(0, 10).Select(i => merchant.Client.RefundAsync(paymentId, 4_000, $"r{i}")));
        using var repeat = await merchant.Client.RefundAsync(paymentId, 4_000, "r0");

        Assert.Equal(2, responses.Count(response => response.StatusCode == HttpStatusCode.Created));
        Assert.Equal(8, responses.Count(response => response.StatusCode == HttpStatusCode.UnprocessableEntity));
        Assert.Equal(98_000, await payer.Client.BalanceAsync(payer.Id));
        Assert.True(repeat.StatusCode is HttpStatusCode.Created or HttpStatusCode.UnprocessableEntity);
        Assert.Equal(98_000, await payer.Client.BalanceAsync(payer.Id));
    }

    [Fact]
    public async Task Refund_ByPayerIs403_ByStrangerIs404_ByOperatorWorks_BadAmountIs400()
    {
        var (payer, _, paymentId) = await PaidAsync(10_000);
        var stranger = await app.RegisterAsync();
        using var operatorClient = await app.OperatorAsync();

        using var byPayer = await payer.Client.RefundAsync(paymentId, 1_000, "payer");
        using var byStranger = await stranger.Client.RefundAsync(paymentId, 1_000, "stranger");
        using var zero = await operatorClient.RefundAsync(paymentId, 0, "zero");
        using var byOperator = await operatorClient.RefundAsync(paymentId, 1_000, "operator");

        await byPayer.AssertProblemAsync(403);
        await byStranger.AssertProblemAsync(404);
        await zero.AssertProblemAsync(400);
        Assert.Equal(HttpStatusCode.Created, byOperator.StatusCode);
        Assert.Equal(91_000, await payer.Client.BalanceAsync(payer.Id));
    }
}
