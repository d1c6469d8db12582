using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using MyPay.Silo.Events;
using Orleans;
using Orleans.Runtime;

namespace MyPay.Api.Tests;

/// <summary>
/// The operator's live view (GET /v1/reports/live), kept by the live counters grain from every wallet's events: it
/// counts each payment, refund and recharge once, even when a rewind hands them all to it again, and shows the bank
/// commands still waiting for the bank.
/// </summary>
public sealed class LiveCountersTests(BankFixture fixture) : LiveViewTests(fixture), IClassFixture<BankFixture>
{
    [Fact]
    public async Task PaymentsRefundsAndRecharges_EachCountOnce_EvenWhenARewindHandsThemOverAgain()
    {
        var started = DateTimeOffset.UtcNow.AddSeconds(-1);
        var merchant = await App.RegisterAsync("merchant", "라이브 상점");
        var payers = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => Fixture.MemberWithWalletAsync(App, 100_000)));
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
        using var rewound = await OperatorClient.PostAsJsonAsync("/v1/events/consumers/livecounters/rewind", new { from = started });
        Assert.Equal(HttpStatusCode.OK, rewound.StatusCode);
        Assert.True((await rewound.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("events").GetInt64() >= 16);
        var again = await ReadAsync();
        Assert.Equal(
            (12L, volume, 1L, 3L),
            (again.GetProperty("paymentsLastMinute").GetInt64(), again.GetProperty("paymentVolumeLastMinuteWon").GetInt64(), Sum(again, "refunds"), Sum(again, "recharges")));
    }

    [Fact]
    public void EveryWalletStream_IsDeliveredToEachConsumersOneGrain_AndOnlyToConsumersOfItsNamespace()
    {
        var consumers = App.Services.GetRequiredService<OutboxConsumers>();
        Assert.Equal(
            [OutboxSubscriptions.ConsumerKey, OutboxSubscriptions.ConsumerKey, OutboxSubscriptions.ConsumerKey],
            new[] { ("livecounters", "m1"), ("livecounters", "m2"), ("regionprojection", "m1") }
                .Select(pair => consumers.For(pair.Item1, StreamId.Create("wallet", pair.Item2))!.GetPrimaryKeyString()));
        Assert.NotNull(consumers.For("regionprojection", StreamId.Create("member", "m1")));
        Assert.Null(consumers.For("livecounters", StreamId.Create("member", "m1")));
        Assert.Null(consumers.For("nobody", StreamId.Create("wallet", "m1")));
        Assert.Contains("livecounters", consumers.Names());
    }

    [Fact]
    public async Task OnlyOperators_SeeTheLiveView()
    {
        var member = await App.RegisterAsync();
        using var response = await member.Client.GetAsync(new Uri("/v1/reports/live", UriKind.Relative));
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    private static long Sum(JsonElement counters, string field) =>
        counters.GetProperty("seconds").EnumerateArray().Sum(second => second.GetProperty(field).GetInt64());
}

/// <summary>
/// The live view's bank commands in flight: a class of its own, with a database of its own, so its recharge does not
/// fall in the minute <see cref="LiveCountersTests"/> counts.
/// </summary>
public sealed class LiveBankCommandsTests(BankFixture fixture) : LiveViewTests(fixture), IClassFixture<BankFixture>
{
    [Fact]
    public async Task ARechargeTheBankIsSlowToAnswer_IsABankCommandInFlight_UntilItIsAnswered()
    {
        var member = await Fixture.FundedMemberAsync(App, bankCode: "088");
        await Fixture.SetFaultsAsync("088", latencyMs: 4_000);
        var recharge = member.Client.RechargeAsync(member.Id, 10_000, $"live-slow-{Guid.NewGuid():N}");

        await WaitForAsync(counters => counters.GetProperty("bankCommandsInFlight").GetInt64() >= 1);
        using (var recharged = await recharge)
        {
            Assert.Equal(HttpStatusCode.OK, recharged.StatusCode);
        }

        await WaitForAsync(counters => counters.GetProperty("bankCommandsInFlight").GetInt64() == 0);
    }

}

/// <summary>A node on the class's database and bank, and its operator signed in.</summary>
public abstract class LiveViewTests(BankFixture fixture) : IAsyncLifetime
{
    protected BankFixture Fixture { get; } = fixture;

    protected MyPayApp App { get; private set; } = null!;

    protected HttpClient OperatorClient { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        await Fixture.ClearFaultsAsync();
        App = new MyPayApp(Fixture.Database.ConnectionString, Fixture.Bank.BaseAddress);
        (await App.CreateReadyClientAsync()).Dispose();
        OperatorClient = await App.OperatorAsync();
    }

    public async Task DisposeAsync()
    {
        await Fixture.ClearFaultsAsync();
        OperatorClient.Dispose();
        await App.DisposeAsync();
    }

    protected Task<JsonElement> ReadAsync() => OperatorClient.GetFromJsonAsync<JsonElement>("/v1/reports/live");

    /// <summary>The live view once <paramref name="condition"/> holds (bounded wait; fails with the last reading).</summary>
    protected async Task<JsonElement> WaitForAsync(Func<JsonElement, bool> condition)
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
