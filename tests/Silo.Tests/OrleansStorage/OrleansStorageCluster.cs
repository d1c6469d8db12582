using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using MyPay.Silo.Events;
using MyPay.Silo.Hosting;
using MyPay.Silo.Storage;
using MyPay.Silo.Storage.Postgres;
using MyPay.Silo.Tests.Support;
using Orleans;
using Orleans.TestingHost;
using StorageId = MyPay.Silo.Grains.GrainId;

namespace MyPay.Silo.Tests.OrleansStorage;

/// <summary>
/// A one-silo Orleans test cluster whose grains store through <see cref="Storage.GroupCommitGrainStorage"/> on a
/// fresh PostgreSQL database (with the <c>test_record</c> table and its writer), for one test class.
/// </summary>
public sealed class OrleansStorageCluster : IAsyncLifetime
{
    public const string StorageName = "test-money";

    /// <summary>A second provider, whose writes commit on a committer of their own.</summary>
    public const string SideStorageName = "test-side";

    private InProcessTestCluster? cluster;

    public RecordDatabase Database { get; } = new();

    public InProcessTestCluster Cluster => cluster ?? throw new InvalidOperationException("The cluster is not deployed.");

    /// <summary>The silo's own services: its store, its record writer.</summary>
    public IServiceProvider SiloServices => Cluster.GetSiloServiceProvider();

    public IGrainFactory Grains => Cluster.Client;

    public async Task InitializeAsync()
    {
        await Database.InitializeAsync();
        var builder = new InProcessTestClusterBuilder(1);
        var connectionString = Database.Silo.ConnectionString;
        builder.ConfigureSilo((_, silo) =>
        {
            silo.Services.AddPostgresGrainStorage(connectionString);
            silo.Services.AddRecordWriter<TestRecordWriter>();
            silo.AddGroupCommitGrainStorage(StorageName);
            silo.AddGroupCommitGrainStorage(SideStorageName, committer: "side");
            OutboxQueueAdapterFactory.AddTo(silo);
        });
        cluster = builder.Build();
        await cluster.DeployAsync();
    }

    public async Task DisposeAsync()
    {
        if (cluster is not null)
        {
            await cluster.DisposeAsync();
        }

        await Database.DisposeAsync();
    }

    /// <summary>Asserts a state's stored row: its version, and the <c>total</c> in its JSON payload.</summary>
    public async Task AssertStoredAsync(string stateName, string key, long version, long total)
    {
        var stored = await Database.Silo.ReadStateAsync(new StorageId(stateName, key));
        Assert.NotNull(stored);
        Assert.Equal(version, stored.Version);
        Assert.Equal(total, JsonDocument.Parse(stored.Payload).RootElement.GetProperty("total").GetInt64());
    }

    /// <summary>What another node's write would leave: a newer version and another total.</summary>
    public async Task SetStoredAsync(string stateName, string key, long version, long total)
    {
        await using var command = Database.Silo.DataSource.CreateCommand(
            "UPDATE silo_grain_state SET version = @version, payload = convert_to(@payload, 'UTF8') WHERE grain_type = @type AND grain_key = @key");
        command.Parameters.AddWithValue("version", version);
        command.Parameters.AddWithValue("payload", $"{{\"total\":{total}}}");
        command.Parameters.AddWithValue("type", stateName);
        command.Parameters.AddWithValue("key", key);
        Assert.Equal(1, await command.ExecuteNonQueryAsync());
    }

    /// <summary>Holds the store's committer, so the writes queued meanwhile go into one batch on release.</summary>
    public Task<CommitterHold> HoldCommitterAsync() => CommitterHold.StartAsync(Database.Silo, Store);

    /// <summary>Waits until the held committer's queue has <paramref name="count"/> writes: they reach the store asynchronously.</summary>
    public async Task WaitForQueuedWritesAsync(int count)
    {
        var deadline = DateTime.UtcNow + TestSilo.Timeout;
        while (Store.QueuedWrites < count)
        {
            Assert.True(DateTime.UtcNow < deadline, $"Only {Store.QueuedWrites} of {count} writes reached the store within {TestSilo.Timeout}.");
            await Task.Delay(10);
        }
    }

    private PostgresGrainStorage Store => SiloServices.GetRequiredService<IGrainStorage>() as PostgresGrainStorage
        ?? throw new InvalidOperationException("The silo's store is not the PostgreSQL one.");
}
