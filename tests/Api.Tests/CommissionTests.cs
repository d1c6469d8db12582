using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace MyPay.Api.Tests;

/// <summary>
/// Commission history: every change of a merchant's rate or the default is kept (who, when, old, new) and listed, and
/// payments carry the rate in force when they were made. The tests of this class share one default rate (one
/// database), so none assumes the default is still the built-in one, and each reads the history from its own start.
/// </summary>
public sealed class CommissionTests(BankFixture fixture) : IClassFixture<BankFixture>, IAsyncLifetime
{
    private MyPayApp app = null!;
    private HttpClient operatorClient = null!;

    public async Task InitializeAsync()
    {
        await fixture.ClearFaultsAsync();
        app = new MyPayApp(fixture.Database.ConnectionString, fixture.Bank.BaseAddress);
        (await app.CreateReadyClientAsync()).Dispose();
        operatorClient = await app.OperatorAsync();
    }

    public async Task DisposeAsync()
    {
        operatorClient.Dispose();
        await app.DisposeAsync();
    }

    [Fact]
    public async Task History_ListsMerchantAndDefaultChanges_NewestFirst_WithWhoWhenOldNew()
    {
        var merchant = await app.RegisterAsync("merchant", "꽃집");
        var defaultBefore = await DefaultBpsAsync();
        var defaultAfter = OtherRate(defaultBefore);
        var start = DateTimeOffset.UtcNow;

        await SetMerchantAsync(merchant.Id, 1_000);
        await SetDefaultAsync(defaultAfter);
        await SetMerchantAsync(merchant.Id, null);

        var items = await HistoryAsync(merchant.Client, merchant.Id);
        Assert.Equal(
            [
                ("merchant", (long?)1_000, (long?)null, defaultAfter),
                ("default", defaultBefore, defaultAfter, 1_000),
                ("merchant", null, 1_000, 1_000),
            ],
            items.Take(3).Select(item => (Scope(item), Bps(item, "oldBps"), Bps(item, "newBps"), item.GetProperty("rateInForceBps").GetInt64())));
        Assert.All(items.Take(3), item =>
        {
            Assert.Equal("operator", item.GetProperty("changedBy").GetString());
            Assert.InRange(item.GetProperty("changedAt").GetDateTimeOffset(), start.AddSeconds(-1), DateTimeOffset.UtcNow.AddSeconds(1));
        });
        var times = items.Select(item => item.GetProperty("changedAt").GetDateTimeOffset()).ToList();
        Assert.Equal(times.OrderDescending(), times);
    }

    [Fact]
    public async Task History_SameRateAgain_WritesNothing()
    {
        var merchant = await app.RegisterAsync("merchant", "빵집");
        await SetMerchantAsync(merchant.Id, 700);
        var before = await HistoryAsync(operatorClient, merchant.Id);

        await SetMerchantAsync(merchant.Id, 700);
        await SetDefaultAsync(await DefaultBpsAsync());

        Assert.Equal(before.Count, (await HistoryAsync(operatorClient, merchant.Id)).Count);
        Assert.Equal(700, before[0].GetProperty("newBps").GetInt64());
    }

    [Fact]
    public async Task Payments_CarryTheRateInForceWhenMade_AsTheHistoryTellsIt()
    {
        // A merchant on the default, then its own rate, then a default change (which does not touch its own rate),
        // then back to the default: each payment is charged the rate the history says was in force at its time.
        var payer = await fixture.MemberWithWalletAsync(app, 100_000);

        var merchant = await app.RegisterAsync("merchant", "서점");
        var defaultBefore = await DefaultBpsAsync();
        var defaultAfter = OtherRate(defaultBefore);
        var payments = new List<JsonElement> { await PayAsync(payer, merchant.Id) };
        await SetMerchantAsync(merchant.Id, 1_000);
        payments.Add(await PayAsync(payer, merchant.Id));
        await SetDefaultAsync(defaultAfter);
        payments.Add(await PayAsync(payer, merchant.Id));
        await SetMerchantAsync(merchant.Id, null);
        payments.Add(await PayAsync(payer, merchant.Id));

        Assert.Equal([defaultBefore, 1_000, 1_000, defaultAfter], payments.Select(payment => payment.GetProperty("commissionBps").GetInt64()));
        var history = await HistoryAsync(merchant.Client, merchant.Id);
        foreach (var payment in payments)
        {
            var paidAt = payment.GetProperty("createdAt").GetDateTimeOffset();
            var inForce = history.FirstOrDefault(item => item.GetProperty("changedAt").GetDateTimeOffset() <= paidAt) is { ValueKind: JsonValueKind.Object } latest
                ? latest.GetProperty("rateInForceBps").GetInt64()
                : defaultBefore;
            Assert.Equal(inForce, payment.GetProperty("commissionBps").GetInt64());
        }
    }

    [Fact]
    public async Task History_ForTheMerchantAndOperators_OthersAre403_CustomersAndUnknownAre404()
    {
        var merchant = await app.RegisterAsync("merchant", "약국");
        var otherMerchant = await app.RegisterAsync("merchant", "옆 약국");
        var customer = await app.RegisterAsync();
        await SetMerchantAsync(merchant.Id, 123);

        using var own = await merchant.Client.GetAsync(HistoryUri(merchant.Id));
        using var byOperator = await operatorClient.GetAsync(HistoryUri(merchant.Id));
        using var byOtherMerchant = await otherMerchant.Client.GetAsync(HistoryUri(merchant.Id));
        using var byCustomer = await customer.Client.GetAsync(HistoryUri(merchant.Id));
        using var customersOwn = await customer.Client.GetAsync(HistoryUri(customer.Id));
        using var unknown = await operatorClient.GetAsync(HistoryUri("no-such-merchant"));
        using var malformed = await operatorClient.GetAsync(HistoryUri("not%20an%20id"));
        using var anonymous = app.CreateClient();
        using var noToken = await anonymous.GetAsync(HistoryUri(merchant.Id));

        Assert.Equal(HttpStatusCode.OK, own.StatusCode);
        Assert.Equal(HttpStatusCode.OK, byOperator.StatusCode);
        Assert.Equal(123, (await own.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("items")[0].GetProperty("newBps").GetInt64());
        await byOtherMerchant.AssertProblemAsync(403);
        await byCustomer.AssertProblemAsync(403);
        Assert.EndsWith("unknown-merchant", (await customersOwn.AssertProblemAsync(404)).ProblemType());
        Assert.EndsWith("unknown-merchant", (await unknown.AssertProblemAsync(404)).ProblemType());
        await malformed.AssertProblemAsync(400);
        await noToken.AssertProblemAsync(401);
    }

    [Fact]
    public async Task InvalidChanges_AreProblems_AndStoreNothing()
    {
        var merchant = await app.RegisterAsync("merchant", "철물점");
        var customer = await app.RegisterAsync();
        await SetMerchantAsync(merchant.Id, 400);
        var defaultBps = await DefaultBpsAsync();
        var before = await HistoryAsync(operatorClient, merchant.Id);

        using var tooHigh = await operatorClient.PutAsJsonAsync($"/v1/merchants/{merchant.Id}/commission", new { rateBps = 10_001 });
        using var negative = await operatorClient.PutAsJsonAsync($"/v1/merchants/{merchant.Id}/commission", new { rateBps = -1 });
        using var byMerchant = await merchant.Client.PutAsJsonAsync($"/v1/merchants/{merchant.Id}/commission", new { rateBps = 0 });
        using var toCustomer = await operatorClient.PutAsJsonAsync($"/v1/merchants/{customer.Id}/commission", new { rateBps = 100 });
        using var defaultMissing = await operatorClient.PutAsJsonAsync("/v1/commission/default", new { rateBps = (long?)null });
        using var defaultNegative = await operatorClient.PutAsJsonAsync("/v1/commission/default", new { rateBps = -1 });
        using var defaultByMerchant = await merchant.Client.PutAsJsonAsync("/v1/commission/default", new { rateBps = 0 });

        await tooHigh.AssertProblemAsync(400);
        await negative.AssertProblemAsync(400);
        await byMerchant.AssertProblemAsync(403);
        await toCustomer.AssertProblemAsync(404);
        await defaultMissing.AssertProblemAsync(400);
        await defaultNegative.AssertProblemAsync(400);
        await defaultByMerchant.AssertProblemAsync(403);
        var after = await HistoryAsync(operatorClient, merchant.Id);
        Assert.Equal(before.Select(item => item.ToString()), after.Select(item => item.ToString()));
        Assert.Equal(defaultBps, await DefaultBpsAsync());
        var profile = await operatorClient.GetFromJsonAsync<JsonElement>($"/v1/members/{merchant.Id}");
        Assert.Equal(400, profile.GetProperty("commissionBps").GetInt64());
    }

    private static Uri HistoryUri(string merchantId) => new($"/v1/merchants/{merchantId}/commission/history", UriKind.Relative);

    private static string Scope(JsonElement item) => item.GetProperty("scope").GetString()!;

    private static long? Bps(JsonElement item, string name) => item.GetProperty(name) is { ValueKind: JsonValueKind.Number } bps ? bps.GetInt64() : null;

    /// <summary>A valid rate other than <paramref name="rateBps"/>, so a change is a change whatever the default is now.</summary>
    private static long OtherRate(long rateBps) => rateBps == 300 ? 310 : 300;

    private static async Task<List<JsonElement>> HistoryAsync(HttpClient client, string merchantId)
    {
        var history = await client.GetFromJsonAsync<JsonElement>(HistoryUri(merchantId));
        Assert.Equal(merchantId, history.GetProperty("merchantId").GetString());
        return [.. history.GetProperty("items").EnumerateArray()];
    }

    private async Task<long> DefaultBpsAsync() =>
        (await operatorClient.GetFromJsonAsync<JsonElement>("/v1/commission/default")).GetProperty("rateBps").GetInt64();

    private async Task SetMerchantAsync(string merchantId, long? rateBps)
    {
        using var set = await operatorClient.PutAsJsonAsync($"/v1/merchants/{merchantId}/commission", new { rateBps });
        set.EnsureSuccessStatusCode();
    }

    private async Task SetDefaultAsync(long rateBps)
    {
        using var set = await operatorClient.PutAsJsonAsync("/v1/commission/default", new { rateBps });
        set.EnsureSuccessStatusCode();
    }

    /// <summary>Pays the merchant 10,000 won and returns the payment as stored (its rate and time).</summary>
    private static async Task<JsonElement> PayAsync(MyPayApp.Member payer, string merchantId)
    {
        using var paid = await payer.Client.PayAsync(merchantId, 10_000, $"pay-{Guid.NewGuid():N}");
        Assert.Equal(HttpStatusCode.Created, paid.StatusCode);
        var paymentId = (await paid.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("paymentId").GetString();
        return await payer.Client.GetFromJsonAsync<JsonElement>($"/v1/payments/{paymentId}");
    }
}
