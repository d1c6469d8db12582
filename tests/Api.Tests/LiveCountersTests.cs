using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace MyPay.Api.Tests;

/// <summary>
/// The operator's live view (GET /v1/reports/live), kept by the live counters grain from every wallet's events: it
/// counts each payment, refund and recharge once, even when a rewind hands them all to it again, and shows the bank
/// commands still waiting for the bank.
/// </summary>
public sealed class LiveCountersTests(BankFixture fixture) : IClassFixture<BankFixture>, IAsyncLifetime
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
        await fixture.ClearFaultsAsync();
        operatorClient.Dispose();
        await app.DisposeAsync();
    }

    [Fact]
    public async Task PaymentsRefundsAndRecharges_EachCountOnce_EvenWhenARewindHandsThemOverAgain()
    {
        var started = DateTimeOffset.UtcNow.AddSeconds(-1);
        var merchant = await app.RegisterAsync("merchant", "라이브 상점");
        var payers = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => fixture.MemberWithWalletAsync(app, 100_000)));
        var paid = new List<(HttpClient Merchant, string PaymentId)>();
        long volume = 0;
        foreach (var (payer, p) in payers.Select((payer, p) => (payer, p)))
        {
            for (var i = 0; i < 4; i++)
            {
                var amount = 1_000 + (p * 4 + i) * 250;
                using var response = await payer.Client.PayAsync(merchant.Id, amount, $"live-{p}-{i}");
                Assert.Equal(HttpStatusCode.Created, response.StatusCode);
                paid.Add((merchant.Client, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("paymentId").GetString()!));
                volume += amount;
            }
        }

        using (var refunded = await merchant.Client.RefundAsync(paid[0].PaymentId, 300, "live-refund"))
        {
            Assert.Equal(HttpStatusCode.Created, refunded.StatusCode);
        }

        var live = await WaitForAsync(counters => counters.GetProperty("paymentsLastMinute").GetInt64() == 12 && Sum(counters, "refunds") == 1);
        Assert.Equal(volume, live.GetProperty("paymentVolumeLastMinuteWon").GetInt64());
        Assert.Equal(volume, Sum(live, "paymentVolumeWon"));
        Assert.Equal(300, Sum(live, "refundVolumeWon"));
        Assert.Equal((3, 300_000), (Sum(live, "recharges"), Sum(live, "rechargeVolumeWon")));
        Assert.True(live.GetProperty("paymentsPerSecond").GetDouble() > 0);

        // Every wallet event since the test began, handed to the live counters once more: nothing counts twice.
        using var rewound = await operatorClient.PostAsJsonAsync("/v1/events/consumers/livecounters/rewind", new { from = started });
        Assert.Equal(HttpStatusCode.OK, rewound.StatusCode);
        Assert.True((await rewound.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("events").GetInt64() >= 16);
        var again = await ReadAsync();
        Assert.Equal(
            (12L, volume, 1L, 3L),
            (again.GetProperty("paymentsLastMinute").GetInt64(), again.GetProperty("paymentVolumeLastMinuteWon").GetInt64(), Sum(again, "refunds"), Sum(again, "recharges")));
    }

    [Fact]
    public async Task ARechargeTheBankIsSlowToAnswer_IsABankCommandInFlight_UntilItIsAnswered()
    {
        var member = await fixture.FundedMemberAsync(app, bankCode: "088");
        await fixture.SetFaultsAsync("088", latencyMs: 4_000);
        var recharge = member.Client.RechargeAsync(member.Id, 10_000, $"live-slow-{Guid.NewGuid():N}");

        await WaitForAsync(counters => counters.GetProperty("bankCommandsInFlight").GetInt64() >= 1);
        using (var recharged = await recharge)
        {
            Assert.Equal(HttpStatusCode.OK, recharged.StatusCode);
        }

        await WaitForAsync(counters => counters.GetProperty("bankCommandsInFlight").GetInt64() == 0);
    }

    [Fact]
    public async Task OnlyOperators_SeeTheLiveView()
    {
        var member = await app.RegisterAsync();
        using var response = await member.Client.GetAsync(new Uri("/v1/reports/live", UriKind.Relative));
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    private static long Sum(JsonElement counters, string field) =>
        counters.GetProperty("seconds").EnumerateArray().Sum(second => second.GetProperty(field).GetInt64());

    private Task<JsonElement> ReadAsync() => operatorClient.GetFromJsonAsync<JsonElement>("/v1/reports/live");

    private async Task<JsonElement> WaitForAsync(Func<JsonElement, bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        var counters = await ReadAsync();
        while (!condition(counters) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
            counters = await ReadAsync();
        }

        Assert.True(condition(counters), counters.ToString());
        return counters;
    }
}
