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
}
