using Microsoft.Extensions.DependencyInjection;
using MyPay.Silo.Events;
using MyPay.Silo.Tests.Support;
using Npgsql;

namespace MyPay.Silo.Tests.OrleansStorage;

/// <summary>
/// The outbox read as an Orleans stream (<see cref="Events.OutboxQueueAdapterFactory"/>) on a real PostgreSQL: events
/// reach the stream's implicit subscriber in commit order, and one whose transaction commits last is not skipped
/// though its position is the smaller.
/// </summary>
public sealed class OutboxStreamTests(OrleansStorageCluster fixture) : IClassFixture<OrleansStorageCluster>
{
    [Fact]
    public async Task TwoProducers_TheSmallerPositionCommittingLast_BothAreDelivered_InCommitOrder()
    {
        var key = Guid.NewGuid().ToString("N");

        // The first producer's transaction takes the smaller position and stays open...
        await using var connection = await fixture.Database.Silo.DataSource.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await using (var insert = new NpgsqlCommand(
            "INSERT INTO outbox_event (event_id, stream_key, sequence, type, payload, occurred_at) VALUES (@id, @stream, 100, 'tally.noted', '{}', now())",
            connection,
            transaction))
        {
            insert.Parameters.AddWithValue("id", $"tally.noted:{key}");
            insert.Parameters.AddWithValue("stream", $"tally:{key}");
            await insert.ExecuteNonQueryAsync();
        }

        // ...while the second commits: it is not delivered ahead of the first, whose commit could still come.
        Assert.Equal(5, await fixture.Grains.GetGrain<ITallyGrain>(key).AddAndPublish(5).WaitAsync(TestSilo.Timeout));
        await Task.Delay(TimeSpan.FromSeconds(1));
        Assert.Empty(TallyEventsGrain.Received(key));

        await transaction.CommitAsync();

        var deadline = DateTime.UtcNow + TestSilo.Timeout;
        while (TallyEventsGrain.Received(key).Count < 2 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        Assert.Equal([$"tally.noted:{key}", $"tally.added:{key}:5"], TallyEventsGrain.Received(key).Select(received => received.EventId));
    }

    [Fact]
    public async Task AConsumerThatThrows_IsRetried_ThenItsEventIsDeadLettered_AndTheOperatorsReplayDeliversIt()
    {
        var key = Guid.NewGuid().ToString("N");
        TallyEventsGrain.Failing[key] = true;
        await fixture.Grains.GetGrain<ITallyGrain>(key).AddAndPublish(3).WaitAsync(TestSilo.Timeout);

        var deadLetters = fixture.SiloServices.GetRequiredService<OutboxDeadLetters>();
        var consumers = fixture.SiloServices.GetRequiredService<OutboxConsumers>();
        var eventId = $"tally.added:{key}:3";
        var deadline = DateTime.UtcNow + TestSilo.Timeout;
        DeadLetter? letter = null;
        while (letter is null && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
            letter = (await deadLetters.ListAsync(pendingOnly: true, CancellationToken.None)).SingleOrDefault(dead => dead.Event.EventId == eventId);
        }

        Assert.NotNull(letter);
        Assert.Equal(("tallyevents", OutboxSubscriptions.ConsumeAttempts), (letter.Consumer, letter.Attempts));
        Assert.Contains("refuses", letter.Error, StringComparison.Ordinal);
        Assert.Empty(TallyEventsGrain.Received(key));

        // Replayed while still failing: kept, and counted as failed.
        Assert.Equal(new ReplayOutcome(0, 1), await deadLetters.ReplayAsync(consumers, CancellationToken.None));

        TallyEventsGrain.Failing.TryRemove(key, out _);
        Assert.Equal(new ReplayOutcome(1, 0), await deadLetters.ReplayAsync(consumers, CancellationToken.None));
        Assert.Equal([eventId], TallyEventsGrain.Received(key).Select(received => received.EventId));
        Assert.DoesNotContain(await deadLetters.ListAsync(pendingOnly: true, CancellationToken.None), dead => dead.Event.EventId == eventId);
    }

    [Fact]
    public async Task AConsumerWhoseCallsFindANodeDown_DeadLettersNothing_AndGetsItsEventsOnceTheNodeIsBack()
    {
        var key = Guid.NewGuid().ToString("N");
        TallyEventsGrain.Unreachable[key] = true;
        var failuresBefore = TallyEventsGrain.UnreachableDeliveries;
        await fixture.Grains.GetGrain<ITallyGrain>(key).AddAndPublish(7).WaitAsync(TestSilo.Timeout);

        // Several deliveries fail, more than a consumer's attempts before it dead-letters; none is dead-lettered.
        var deadline = DateTime.UtcNow + TestSilo.Timeout;
        while (TallyEventsGrain.UnreachableDeliveries - failuresBefore <= OutboxSubscriptions.ConsumeAttempts && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        Assert.True(TallyEventsGrain.UnreachableDeliveries - failuresBefore > OutboxSubscriptions.ConsumeAttempts);
        var eventId = $"tally.added:{key}:7";
        var deadLetters = fixture.SiloServices.GetRequiredService<OutboxDeadLetters>();
        Assert.DoesNotContain(await deadLetters.ListAsync(pendingOnly: false, CancellationToken.None), dead => dead.Event.EventId == eventId);
        Assert.Empty(TallyEventsGrain.Received(key));

        // The node is back: the stream hands the same events again, and they arrive, once.
        TallyEventsGrain.Unreachable.TryRemove(key, out _);
        deadline = DateTime.UtcNow + TestSilo.Timeout;
        while (TallyEventsGrain.Received(key).Count == 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        Assert.Equal([eventId], TallyEventsGrain.Received(key).Select(received => received.EventId));
        Assert.DoesNotContain(await deadLetters.ListAsync(pendingOnly: false, CancellationToken.None), dead => dead.Event.EventId == eventId);
    }
}
