using System.Reflection;
using MyPay.Silo.Migrations;
using MyPay.Testing;
using Orleans.Configuration;

namespace MyPay.Silo.Tests.Orleans;

/// <summary>The clustering and reminder migrations: applied once, and holding every query the providers require.</summary>
public sealed class OrleansMigrationTests : IAsyncLifetime
{
    private const string OptionalClusteringKey = "CleanupDefunctSiloEntryKey";

    private readonly PostgresDatabase database = new();

    public Task InitializeAsync() => database.InitializeAsync();

    public Task DisposeAsync() => database.DisposeAsync();

    [Fact]
    public async Task ApplyAsync_Twice_AppliesBothComponentsOnceThenNothing()
    {
        var first = await PostgresTestCluster.MigrateAsync(database);
        var second = await PostgresTestCluster.MigrateAsync(database);

        Assert.Equal(["clustering/0001_membership.sql", "reminders/0001_reminders.sql"], first);
        Assert.Empty(second);
        Assert.Equal(3L, await database.ScalarAsync<long>(
            "SELECT count(*) FROM pg_tables WHERE tablename IN ('orleans_membership_version', 'orleans_membership', 'orleans_reminder')"));
    }

    [Fact]
    public async Task ApplyAsync_RemindersAlone_StandsWithoutClustering()
    {
        await using var dataSource = database.CreateDataSource();

        var applied = await new MigrationRunner(dataSource, [MigrationSource.Reminders])
            .ApplyAsync(CancellationToken.None).WaitAsync(PostgresTestCluster.WaitMax);

        Assert.Equal(["reminders/0001_reminders.sql"], applied);
        Assert.Equal(7L, await database.ScalarAsync<long>("SELECT count(*) FROM OrleansQuery"));
    }

    [Fact]
    public async Task OrleansQuery_AfterMigrating_HoldsEveryKeyTheProvidersRequire()
    {
        // Goal: a provider refuses to start when one of its keys is missing, and this test names the missing key
        // first. The required keys are read from the providers themselves, the way they check them at start-up:
        // every non-public instance property of their DbStoredQueries class is a key.
        await PostgresTestCluster.MigrateAsync(database);
        var clusteringKeys = RequiredKeys(typeof(AdoNetClusteringSiloOptions).Assembly, "Orleans.Clustering.AdoNet.Storage.DbStoredQueries");
        var reminderKeys = RequiredKeys(typeof(AdoNetReminderTableOptions).Assembly, "Orleans.Reminders.AdoNet.Storage.DbStoredQueries");

        var stored = await ReadQueryKeysAsync();

        // Sanity: the reflection found the lists the provider checks, not an empty one.
        Assert.Contains("MembershipReadAllKey", clusteringKeys);
        Assert.Contains("ReadRangeRows2Key", reminderKeys);
        Assert.Empty(clusteringKeys.Concat(reminderKeys).Except(stored, StringComparer.Ordinal));

        // Nothing else is stored but the one optional key: the clustering provider uses it when it is there
        // (deleting a defunct silo only if its row is unchanged) and falls back to the bulk delete otherwise.
        Assert.Equal(
            clusteringKeys.Concat(reminderKeys).Append(OptionalClusteringKey).Order(StringComparer.Ordinal),
            stored.Order(StringComparer.Ordinal));
    }

    private static List<string> RequiredKeys(Assembly provider, string typeName)
    {
        var type = provider.GetType(typeName, throwOnError: true)!;
        return type.GetProperties(BindingFlags.Instance | BindingFlags.NonPublic).Select(property => property.Name).ToList();
    }

    private async Task<List<string>> ReadQueryKeysAsync()
    {
        await using var dataSource = database.CreateDataSource();
        await using var command = dataSource.CreateCommand("SELECT QueryKey FROM OrleansQuery");
        await using var reader = await command.ExecuteReaderAsync();
        var keys = new List<string>();
        while (await reader.ReadAsync())
        {
            keys.Add(reader.GetString(0));
        }

        return keys;
    }
}
