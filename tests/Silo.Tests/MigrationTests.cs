using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using MyPay.Silo.Hosting;
using MyPay.Silo.Migrations;
using MyPay.Silo.Tests.Support;
using MyPay.Testing;

namespace MyPay.Silo.Tests;

/// <summary>Migrations: applied once each, in order, even when several nodes start at once. Each test gets a fresh database.</summary>
public sealed class MigrationTests : IAsyncLifetime
{
    private const string NotMigrated = "The database schema has not been migrated yet.";

    private static readonly MigrationSource TestComponent = new("test", typeof(MigrationTests).Assembly, "MyPay.Silo.Tests.Migrations.");

    private readonly PostgresDatabase database = new();

    public Task InitializeAsync() => database.InitializeAsync();

    public Task DisposeAsync() => database.DisposeAsync();

    [Fact]
    public async Task ApplyAsync_Twice_AppliesEveryMigrationOnceThenNothing()
    {
        await using var dataSource = database.CreateDataSource();
        var runner = new MigrationRunner(dataSource, [MigrationSource.Silo]);

        var first = await runner.ApplyAsync(CancellationToken.None).WaitAsync(TestSilo.Timeout);
        var second = await runner.ApplyAsync(CancellationToken.None).WaitAsync(TestSilo.Timeout);

        Assert.Contains("silo/0001_grain_state.sql", first);
        Assert.All(first, id => Assert.StartsWith("silo/", id, StringComparison.Ordinal));
        Assert.Equal(first.Order(StringComparer.Ordinal), first);
        Assert.Empty(second);
        Assert.Equal(first.Count, await database.ScalarAsync<long>("SELECT count(*) FROM silo_schema_migration"));
    }

    [Fact]
    public async Task ApplyAsync_FromFourNodesAtOnce_AllSucceedAndEachMigrationIsAppliedOnce()
    {
        // Four runners, each on its own connection pool as separate nodes would be, start together on an empty database.
        var dataSources = Enumerable.Range(0, 4).Select(_ => database.CreateDataSource()).ToList();
        try
        {
            using var start = new ManualResetEventSlim();
            var runs = dataSources.Select(dataSource => Task.Run(async () =>
            {
                start.Wait();
                return await new MigrationRunner(dataSource, [MigrationSource.Silo, TestComponent]).ApplyAsync(CancellationToken.None);
            })).ToList();
            start.Set();
            var applied = (await Task.WhenAll(runs).WaitAsync(TestSilo.Timeout)).SelectMany(ids => ids).ToList();

            Assert.Equal(applied.Distinct().Count(), applied.Count);
            Assert.Contains("silo/0001_grain_state.sql", applied);
            Assert.Contains("test/0002_note_body.sql", applied);
            Assert.Equal(applied.Count, await database.ScalarAsync<long>("SELECT count(DISTINCT id) FROM silo_schema_migration"));
            Assert.Equal(applied.Count, await database.ScalarAsync<long>("SELECT count(*) FROM silo_schema_migration"));
            Assert.Equal(3L, await database.ScalarAsync<long>(
                "SELECT count(*) FROM pg_tables WHERE tablename IN ('silo_grain_state', 'silo_grain_operation', 'test_note')"));
        }
        finally
        {
            foreach (var dataSource in dataSources)
            {
                await dataSource.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task ApplyAsync_WithAnAddedComponent_AppliesOnlyItsMigrations_InFileOrder_AfterTheSilos()
    {
        // The component's 0001 references a silo table and its 0002 alters 0001's table: either out of order fails.
        await using var dataSource = database.CreateDataSource();
        await new MigrationRunner(dataSource, [MigrationSource.Silo]).ApplyAsync(CancellationToken.None).WaitAsync(TestSilo.Timeout);

        var applied = await new MigrationRunner(dataSource, [MigrationSource.Silo, TestComponent])
            .ApplyAsync(CancellationToken.None).WaitAsync(TestSilo.Timeout);

        Assert.Equal(["test/0001_note.sql", "test/0002_note_body.sql"], applied);
        Assert.Equal(1L, await database.ScalarAsync<long>(
            "SELECT count(*) FROM information_schema.columns WHERE table_name = 'test_note' AND column_name = 'body'"));
    }

    [Fact]
    public async Task PostgresStartup_AsAHostedService_MigratesAndThenReportsReady()
    {
        await using var provider = new ServiceCollection()
            .AddLogging()
            .AddSingleton<IConfiguration>(new ConfigurationBuilder().Build())
            .AddPostgresGrainStorage(database.ConnectionString)
            .AddMigrations(TestComponent)
            .BuildServiceProvider();
        var health = provider.GetRequiredService<IStorageHealth>();
        Assert.Equal(NotMigrated, await health.CheckAsync(CancellationToken.None));

        var hosted = provider.GetServices<IHostedService>().ToList();
        foreach (var service in hosted)
        {
            await service.StartAsync(CancellationToken.None);
        }

        try
        {
            var deadline = DateTime.UtcNow + TestSilo.Timeout;
            while (await health.CheckAsync(CancellationToken.None) is { } reason)
            {
                Assert.True(DateTime.UtcNow < deadline, $"Still not ready after {TestSilo.Timeout}: {reason}");
                await Task.Delay(20);
            }

            Assert.Equal(1L, await database.ScalarAsync<long>("SELECT count(*) FROM silo_schema_migration WHERE id = 'test/0002_note_body.sql'"));
        }
        finally
        {
            foreach (var service in hosted)
            {
                await service.StopAsync(CancellationToken.None);
            }
        }
    }

    [Fact]
    public async Task PostgresStartup_WithTheDatabaseUnreachable_StartsAndReportsNotReady_AndStopsPromptly()
    {
        // Port 1 on loopback refuses connections: start-up must keep retrying in the background, not fail or hang.
        await using var provider = new ServiceCollection()
            .AddLogging()
            .AddSingleton<IConfiguration>(new ConfigurationBuilder().Build())
            .AddPostgresGrainStorage("postgresql://postgres@127.0.0.1:1/nowhere")
            .BuildServiceProvider();
        var hosted = provider.GetServices<IHostedService>().ToList();

        foreach (var service in hosted)
        {
            await service.StartAsync(CancellationToken.None).WaitAsync(TestSilo.Timeout);
        }

        await Task.Delay(300);
        Assert.Equal(NotMigrated, await provider.GetRequiredService<IStorageHealth>().CheckAsync(CancellationToken.None));
        foreach (var service in hosted)
        {
            await service.StopAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(5));
        }
    }
}
