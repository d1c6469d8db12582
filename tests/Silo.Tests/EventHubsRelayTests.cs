using Microsoft.Extensions.DependencyInjection;
using MyPay.Silo.Events;
using MyPay.Silo.Hosting;
using MyPay.Silo.Tests.Orleans;
using MyPay.Silo.Tests.OrleansStorage;
using MyPay.Silo.Tests.Support;
using Npgsql;
using Orleans.Hosting;
using Orleans.Streams;
using Orleans.TestingHost;

namespace MyPay.Silo.Tests;

/// <summary>
/// The relay that feeds Event Hubs from the outbox (<see cref="OutboxRelay"/>), on a real PostgreSQL, with Orleans'
/// in-memory stream provider standing in for the hub under the provider name <c>outbox</c> (the relay only sends to
/// whatever provider has that name): committed events reach their stream's implicit subscriber, the relay's checkpoint
/// follows, and a relay that does not hold the relay lock sends nothing.
/// </summary>
public sealed class EventHubsRelayTests(RecordDatabase database) : IClassFixture<RecordDatabase>
{
    [Fact]
    public async Task CommittedEvents_AreSentOnTheirStream_InOrder_ThenTheRelaysCheckpointPassesThem()
    {
        var serviceId = $"relay-{Guid.NewGuid():N}";
        await using var cluster = await DeployAsync(serviceId);
        var key = TestSilo.NewKey();

        await cluster.Client.GetGrain<ITallyGrain>(key).AddAndPublish(5).WaitAsync(TestSilo.Timeout);
        await cluster.Client.GetGrain<ITallyGrain>(key).AddAndPublish(2).WaitAsync(TestSilo.Timeout);

        await PostgresTestCluster.UntilAsync(() => Task.FromResult(TallyEventsGrain.Received(key).Count >= 2), "both events reach the consumer");
        Assert.Equal([$"tally.added:{key}:5", $"tally.added:{key}:7"], TallyEventsGrain.Received(key).Select(received => received.EventId));
        await PostgresTestCluster.UntilAsync(
            async () => await database.Silo.ScalarAsync<long>(
                $"""
                SELECT count(*) FROM outbox_event e WHERE e.stream_key = 'tally:{key}'
                AND NOT EXISTS (SELECT FROM outbox_reader r WHERE r.reader = '{serviceId}/eventhubs-relay/0' AND (r.tx, r.position) >= (e.tx, e.position))
                """) == 0,
            "the relay's checkpoint passes both events");
    }

    [Fact]
    public async Task WhileAnotherHoldsTheRelayLock_NothingIsSent_UntilItsSessionEnds()
    {
        var serviceId = $"relay-{Guid.NewGuid():N}";
        await using var other = await database.Silo.DataSource.OpenConnectionAsync();
        await using (var takeLock = new NpgsqlCommand("SELECT pg_try_advisory_lock(hashtext('mypay.outbox-relay'), hashtext(@reader))", other))
        {
            takeLock.Parameters.AddWithValue("reader", $"{serviceId}/eventhubs-relay/0");
            Assert.True((bool)(await takeLock.ExecuteScalarAsync())!);
        }

        await using var cluster = await DeployAsync(serviceId);
        var key = TestSilo.NewKey();
        await cluster.Client.GetGrain<ITallyGrain>(key).AddAndPublish(3).WaitAsync(TestSilo.Timeout);
        await Task.Delay(TimeSpan.FromSeconds(1));
        Assert.Empty(TallyEventsGrain.Received(key));

        // Ending the other session frees its lock, as a node that dies does (closing a pooled connection would not).
        await using (var terminate = database.Silo.DataSource.CreateCommand("SELECT pg_terminate_backend(@pid)"))
        {
            terminate.Parameters.AddWithValue("pid", other.ProcessID);
            Assert.True((bool)(await terminate.ExecuteScalarAsync())!);
        }

        await PostgresTestCluster.UntilAsync(() => Task.FromResult(TallyEventsGrain.Received(key).Count == 1), "the event is sent once the lock is free");
    }

    /// <summary>One silo storing tallies in the test database, an in-memory stream provider named <c>outbox</c>, and the relay.</summary>
    private async Task<InProcessTestCluster> DeployAsync(string serviceId)
    {
        var builder = new InProcessTestClusterBuilder(1);
        builder.Options.ServiceId = serviceId;
        var connectionString = database.Silo.ConnectionString;
        builder.ConfigureSilo((_, silo) =>
        {
            silo.Services.AddPostgresGrainStorage(connectionString);
            silo.Services.AddSingleton<OutboxDeadLetters>();
            silo.Services.AddOutboxConsumerMapper();
            silo.AddGroupCommitGrainStorage(OrleansStorageCluster.StorageName);
            silo.AddMemoryStreams(OutboxQueueAdapterFactory.ProviderName, streams => streams.ConfigureStreamPubSub(StreamPubSubType.ImplicitOnly));
            OutboxRelay.AddTo(silo.Services, connectionString);
        });
        var cluster = builder.Build();
        await cluster.DeployAsync().WaitAsync(TestSilo.Timeout);
        return cluster;
    }
}
