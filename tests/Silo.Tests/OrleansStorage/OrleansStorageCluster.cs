using MyPay.Silo.Hosting;
using MyPay.Silo.Tests.Support;
using Orleans;
using Orleans.TestingHost;

namespace MyPay.Silo.Tests.OrleansStorage;

/// <summary>
/// A one-silo Orleans test cluster whose grains store through <see cref="Storage.GroupCommitGrainStorage"/> on a
/// fresh PostgreSQL database (with the <c>test_record</c> table and its writer), for one test class.
/// </summary>
public sealed class OrleansStorageCluster : IAsyncLifetime
{
    public const string StorageName = "test-money";

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
}
