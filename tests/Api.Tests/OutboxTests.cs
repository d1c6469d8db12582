using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Npgsql;

namespace MyPay.Api.Tests;

/// <summary>
/// The outbox: each committed change publishes its event in the change's own transaction, on the stream of the grain
/// that made it, numbered 1, 2, 3, … there; a request that changes nothing (refused, or repeated under its key)
/// publishes nothing.
/// </summary>
public sealed class OutboxTests(BankFixture fixture) : IClassFixture<BankFixture>, IAsyncLifetime
{
    private MyPayApp app = null!;
    private NpgsqlDataSource database = null!;

    public async Task InitializeAsync()
    {
        await fixture.ClearFaultsAsync();
        app = new MyPayApp(fixture.Database.ConnectionString, fixture.Bank.BaseAddress);
        (await app.CreateReadyClientAsync()).Dispose();
        database = fixture.Database.CreateDataSource();
    }

    public async Task DisposeAsync()
    {
        await database.DisposeAsync();
        await app.DisposeAsync();
    }

    [Fact]
    public async Task EachCommittedChange_PublishesOneEvent_OnItsGrainsStream_NumberedWithoutGaps()
    {
        var payer = await fixture.MemberWithWalletAsync(app, 100_000);
        var merchant = await app.RegisterAsync("merchant", "동네 빵집");

        using var paid = await payer.Client.PayAsync(merchant.Id, 30_000, "outbox-pay", orderId: "order-1");
        Assert.Equal(HttpStatusCode.Created, paid.StatusCode);
        var paymentId = (await paid.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("paymentId").GetString()!;
        using var repeated = await payer.Client.PayAsync(merchant.Id, 30_000, "outbox-pay", orderId: "order-1");
        Assert.Equal(HttpStatusCode.Created, repeated.StatusCode);
        var broke = await app.RegisterAsync();
        using var refused = await broke.Client.PayAsync(merchant.Id, 1_000, "outbox-too-much");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, refused.StatusCode);
        using var refunded = await merchant.Client.RefundAsync(paymentId, 10_000, "outbox-refund");
        Assert.Equal(HttpStatusCode.Created, refunded.StatusCode);

        var wallet = await EventsAsync($"wallet:{payer.Id}");
        Assert.Equal(["recharge.completed", "payment.completed", "payment.refunded"], wallet.Select(e => e.Type));
        Assert.Equal([1L, 2L, 3L], wallet.Select(e => e.Sequence));
        Assert.Equal([100_000L, 70_000L, 80_000L], wallet.Select(e => e.Payload.GetProperty("balanceAfterWon").GetInt64()));
        Assert.Equal($"payment.completed:{paymentId}", wallet[1].EventId);
        Assert.Equal(merchant.Id, wallet[1].Payload.GetProperty("merchantId").GetString());
        Assert.Equal("order-1", wallet[1].Payload.GetProperty("orderId").GetString());
        Assert.Equal(paymentId, wallet[2].Payload.GetProperty("paymentId").GetString());

        Assert.Empty(await EventsAsync($"wallet:{broke.Id}"));
        var registered = Assert.Single(await EventsAsync($"member:{merchant.Id}"));
        await AssertDeliveredAsync();
        Assert.Equal(("member.registered", 1L, $"member.registered:{merchant.Id}"), (registered.Type, registered.Sequence, registered.EventId));
        Assert.Equal("merchant", registered.Payload.GetProperty("type").GetString());
    }

    [Fact]
    public async Task ACommissionChange_IsPublishedOnTheMerchantsStream_AfterItsRegistration()
    {
        var merchant = await app.RegisterAsync("merchant", "꽃집");
        using var operatorClient = await app.OperatorAsync();

        using var changed = await operatorClient.PutAsJsonAsync($"/v1/merchants/{merchant.Id}/commission", new { rateBps = 150 });
        Assert.Equal(HttpStatusCode.OK, changed.StatusCode);

        var events = await EventsAsync($"member:{merchant.Id}");
        Assert.Equal(["member.registered", "commission.changed"], events.Select(e => e.Type));
        Assert.Equal($"commission.changed:member:{merchant.Id}:2", events[1].EventId);
        Assert.Equal(150, events[1].Payload.GetProperty("newBps").GetInt64());
    }

    [Fact]
    public async Task DeadLetters_AreTheOperators_ToListAndToReplay()
    {
        var member = await app.RegisterAsync();
        using var operatorClient = await app.OperatorAsync();

        using var asMember = await member.Client.GetAsync(new Uri("/v1/events/dead-letters", UriKind.Relative));
        Assert.Equal(HttpStatusCode.Forbidden, asMember.StatusCode);
        using var replayAsMember = await member.Client.PostAsync(new Uri("/v1/events/dead-letters/replay", UriKind.Relative), null);
        Assert.Equal(HttpStatusCode.Forbidden, replayAsMember.StatusCode);

        Assert.Empty(await operatorClient.GetFromJsonAsync<JsonElement[]>("/v1/events/dead-letters?all=true") ?? []);
        using var replayed = await operatorClient.PostAsync(new Uri("/v1/events/dead-letters/replay", UriKind.Relative), null);
        var outcome = await replayed.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal((0, 0), (outcome.GetProperty("replayed").GetInt32(), outcome.GetProperty("failed").GetInt32()));
    }

    /// <summary>Waits until the outbox's reader has handed every event to its consumers, as the operators' status shows.</summary>
    private async Task AssertDeliveredAsync()
    {
        using var operatorClient = await app.OperatorAsync();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        JsonElement reader;
        do
        {
            await Task.Delay(100);
            var status = await operatorClient.GetFromJsonAsync<JsonElement>("/v1/events/status");
            Assert.Equal(0, status.GetProperty("deadLettersPending").GetInt64());
            reader = Assert.Single(status.GetProperty("readers").EnumerateArray());
        }
        while (reader.GetProperty("eventsBehind").GetInt64() > 0 && DateTime.UtcNow < deadline);

        Assert.Equal(0, reader.GetProperty("eventsBehind").GetInt64());
        Assert.Equal(JsonValueKind.Null, reader.GetProperty("oldestUndeliveredAt").ValueKind);
    }

    private async Task<List<StoredEvent>> EventsAsync(string streamKey)
    {
        await using var command = database.CreateCommand(
            "SELECT event_id, type, sequence, payload::text FROM outbox_event WHERE stream_key = @stream ORDER BY sequence");
        command.Parameters.AddWithValue("stream", streamKey);
        await using var reader = await command.ExecuteReaderAsync();
        var events = new List<StoredEvent>();
        while (await reader.ReadAsync())
        {
            events.Add(new StoredEvent(reader.GetString(0), reader.GetString(1), reader.GetInt64(2), JsonDocument.Parse(reader.GetString(3)).RootElement));
        }

        return events;
    }

    private sealed record StoredEvent(string EventId, string Type, long Sequence, JsonElement Payload);
}
