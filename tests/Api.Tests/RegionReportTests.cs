using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using MyPay.Grains.Reports;
using MyPay.Silo.Events;
using Npgsql;

namespace MyPay.Api.Tests;

/// <summary>
/// The money-by-region report, kept from members' and wallets' events through the outbox's Orleans stream: after
/// thousands of mixed operations it equals a direct sum over the wallets, and applying every event again changes nothing.
/// </summary>
public sealed class RegionReportTests(BankFixture fixture) : IClassFixture<BankFixture>, IAsyncLifetime
{
    private static readonly string[] Regions = ["서울특별시 강남구", "부산광역시 해운대구", "대구광역시 수성구"];

    private MyPayApp app = null!;
    private HttpClient operatorClient = null!;
    private NpgsqlDataSource database = null!;

    public async Task InitializeAsync()
    {
        await fixture.ClearFaultsAsync();
        app = new MyPayApp(fixture.Database.ConnectionString, fixture.Bank.BaseAddress);
        (await app.CreateReadyClientAsync()).Dispose();
        operatorClient = await app.OperatorAsync();
        database = fixture.Database.CreateDataSource();
    }

    public async Task DisposeAsync()
    {
        await database.DisposeAsync();
        operatorClient.Dispose();
        await app.DisposeAsync();
    }

    [Fact]
    public async Task AfterFiveThousandMixedOperations_EachRegionEqualsADirectSum_AndEventsAppliedTwiceChangeNothing()
    {
        var merchants = await Task.WhenAll(Enumerable.Range(0, 4).Select(i => app.RegisterAsync("merchant", $"상점 {i}")));
        var payers = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => fixture.MemberWithWalletAsync(app, 1_000_000)));
        foreach (var (member, i) in payers.Select((payer, i) => (payer, i)))
        {
            using var moved = await member.Client.PatchAsJsonAsync($"/v1/members/{member.Id}", new { address = $"{Regions[i % Regions.Length]} {i}번길" });
            Assert.True(moved.IsSuccessStatusCode, await moved.Content.ReadAsStringAsync());
        }

        // 250 operations per payer: payments to the merchants, every 10th sent on to another payer, every 25th refunded.
        await Task.WhenAll(payers.Select(async (payer, p) =>
        {
            for (var i = 0; i < 250; i++)
            {
                if (i % 10 == 9)
                {
                    using var sent = await payer.Client.SendToMemberAsync(payers[(p + 1) % payers.Length].Id, 1_000 + i, $"region-send-{p}-{i}");
                    Assert.True(sent.IsSuccessStatusCode, $"remittance: {(int)sent.StatusCode}");
                    continue;
                }

                var merchant = merchants[(p + i) % merchants.Length];
                using var paid = await payer.Client.PayAsync(merchant.Id, 500 + ((p * 31 + i * 17) % 5_000), $"region-{p}-{i}");
                Assert.Equal(HttpStatusCode.Created, paid.StatusCode);
                if (i % 25 == 0)
                {
                    var paymentId = (await paid.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("paymentId").GetString()!;
                    using var refunded = await merchant.Client.RefundAsync(paymentId, 100, $"region-refund-{p}-{i}");
                    Assert.Equal(HttpStatusCode.Created, refunded.StatusCode);
                }
            }
        }));

        foreach (var region in Regions.Append("광역시").Append("제주"))
        {
            await AssertReportConvergesAsync(region);
        }

        // Every event in the outbox handed to the projection once more, newest first (as late redeliveries would be):
        // nothing moves, where applying them blindly would wind every balance back to its first.
        var projection = app.Services.GetRequiredService<RegionProjection>();
        foreach (var @event in Enumerable.Reverse(await OutboxAsync()))
        {
            await projection.ApplyAsync([@event]);
        }

        foreach (var region in Regions)
        {
            Assert.Equal(await DirectSumAsync(region), await ReportAsync(region));
        }
    }

    [Fact]
    public async Task AProjectionWipedByTheOperator_IsRebuiltByRewindingItsConsumer()
    {
        var started = DateTimeOffset.UtcNow.AddSeconds(-1);
        var region = $"제주특별자치도 {Guid.NewGuid():N}";
        var members = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => fixture.MemberWithWalletAsync(app, 50_000)));
        var merchant = await app.RegisterAsync("merchant", "제주 상점");
        foreach (var (member, i) in members.Select((member, i) => (member, i)))
        {
            using var moved = await member.Client.PatchAsJsonAsync($"/v1/members/{member.Id}", new { address = $"{region} {i}" });
            Assert.True(moved.IsSuccessStatusCode, await moved.Content.ReadAsStringAsync());
            using var paid = await member.Client.PayAsync(merchant.Id, 1_000 * (i + 1), $"rewind-{i}");
            Assert.Equal(HttpStatusCode.Created, paid.StatusCode);
        }

        await AssertReportConvergesAsync(region);
        await using (var wipe = database.CreateCommand("DELETE FROM member_region WHERE member_id = ANY(@ids)"))
        {
            wipe.Parameters.AddWithValue("ids", members.Select(member => member.Id).ToArray());
            Assert.Equal(5, await wipe.ExecuteNonQueryAsync());
        }

        Assert.Equal((0L, 0L), await ReportAsync(region));

        using var consumers = await operatorClient.GetAsync(new Uri("/v1/events/consumers", UriKind.Relative));
        Assert.Contains("regionprojection", await consumers.Content.ReadFromJsonAsync<string[]>() ?? []);
        using var rewound = await operatorClient.PostAsJsonAsync("/v1/events/consumers/regionprojection/rewind", new { from = started });
        Assert.Equal(HttpStatusCode.OK, rewound.StatusCode);
        Assert.Equal((5L, (5 * 50_000L) - 15_000), await DirectSumAsync(region));
        Assert.Equal(await DirectSumAsync(region), await ReportAsync(region));
    }

    [Fact]
    public async Task ARewindOfAnUnknownConsumer_IsNotFound_AndOneWithoutAPastStart_IsABadRequest()
    {
        using var unknown = await operatorClient.PostAsJsonAsync("/v1/events/consumers/nobody/rewind", new { from = DateTimeOffset.UtcNow.AddHours(-1) });
        await unknown.AssertProblemAsync(404);
        using var future = await operatorClient.PostAsJsonAsync("/v1/events/consumers/regionprojection/rewind", new { from = DateTimeOffset.UtcNow.AddHours(1) });
        await future.AssertProblemAsync(400);
        using var missing = await operatorClient.PostAsJsonAsync("/v1/events/consumers/regionprojection/rewind", new { });
        await missing.AssertProblemAsync(400);
    }

    [Fact]
    public async Task ARegionMissingOrTooLong_IsABadRequest()
    {
        using var missing = await operatorClient.GetAsync(new Uri("/v1/reports/money-by-region", UriKind.Relative));
        await missing.AssertProblemAsync(400);
        using var tooLong = await operatorClient.GetAsync(new Uri($"/v1/reports/money-by-region?region={new string('가', 101)}", UriKind.Relative));
        await tooLong.AssertProblemAsync(400);
    }

    private async Task AssertReportConvergesAsync(string region)
    {
        var expected = await DirectSumAsync(region);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        var reported = await ReportAsync(region);
        while (reported != expected && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
            reported = await ReportAsync(region);
        }

        Assert.Equal(expected, reported);
    }

    private async Task<(long Members, long Balance)> ReportAsync(string region)
    {
        var report = await operatorClient.GetFromJsonAsync<JsonElement>($"/v1/reports/money-by-region?region={Uri.EscapeDataString(region)}");
        Assert.Equal(region, report.GetProperty("region").GetString());
        return (report.GetProperty("members").GetInt64(), report.GetProperty("balanceWon").GetInt64());
    }

    /// <summary>The same numbers read straight from the members' stored profiles and the wallets' balances.</summary>
    private async Task<(long Members, long Balance)> DirectSumAsync(string region)
    {
        await using var command = database.CreateCommand(
            """
            SELECT count(*), coalesce(sum(coalesce(w.balance, 0)), 0)::bigint
            FROM silo_grain_state m
            LEFT JOIN wallet_balance w ON w.member_id = m.grain_key
            WHERE m.grain_type = 'member' AND strpos(convert_from(m.payload, 'UTF8')::jsonb -> 'profile' ->> 'address', @region) > 0
            """);
        command.Parameters.AddWithValue("region", region);
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return (reader.GetInt64(0), reader.GetInt64(1));
    }

    private async Task<List<OutboxEvent>> OutboxAsync()
    {
        await using var command = database.CreateCommand("SELECT event_id, stream_key, sequence, type, payload::text, occurred_at FROM outbox_event ORDER BY tx, position");
        await using var reader = await command.ExecuteReaderAsync();
        var events = new List<OutboxEvent>();
        while (await reader.ReadAsync())
        {
            events.Add(new OutboxEvent(reader.GetString(0), reader.GetString(1), reader.GetInt64(2), reader.GetString(3), reader.GetString(4), reader.GetFieldValue<DateTimeOffset>(5)));
        }

        return events;
    }
}
