using Microsoft.Extensions.DependencyInjection;
using MyPay.Testing;
using Npgsql;
using Orleans;
using Orleans.Messaging;
using Orleans.Runtime;
using Orleans.TestingHost;

namespace MyPay.Silo.Tests.Orleans;

/// <summary>
/// Orleans' ADO.NET clustering on MyPay's membership schema and queries: silos join, see each other, serve, and
/// leave, all through the real provider on this class's own database.
/// </summary>
public sealed class PostgresClusteringTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>, IAsyncLifetime
{
    private const int ActiveStatus = 3;
    private const int DeadStatus = 6;

    public async Task InitializeAsync() => await PostgresTestCluster.MigrateAsync(database);

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task TwoSilos_StartOnTheDatabase_FormOneClusterThatServesFromBoth()
    {
        await using var cluster = await PostgresTestCluster.StartAsync(database, siloCount: 2);
        var clusterId = cluster.Options.ClusterId;

        // Both silos wrote their own row and each made itself Active through the versioned update.
        var statuses = await ReadStatusesAsync(clusterId);
        Assert.Equal(2, statuses.Count);
        Assert.All(statuses, row => Assert.Equal(ActiveStatus, row.Status));
        Assert.Equal(
            cluster.Silos.Select(silo => silo.SiloAddress.Endpoint.Port).Order(),
            statuses.Select(row => row.Port).Order());

        // Each insert and status change raised the table version: two inserts and two activations at least.
        Assert.True(await ScalarAsync<int>("SELECT version FROM orleans_membership_version WHERE deployment_id = @id", clusterId) >= 4);

        // The client's gateway list comes from the gateway query: both silos' gateways.
        Assert.Equal(
            cluster.Silos.Select(silo => silo.GatewayAddress!.Endpoint.ToString()).Order(StringComparer.Ordinal),
            await ReadGatewaysAsync(cluster.Client));

        // Random placement over 50 grains leaves one silo idle with probability 2^-49.
        var silosServing = await SilosServingAsync(cluster.Client, Enumerable.Range(0, 50).Select(key => (long)key));
        Assert.Equal(cluster.Silos.Select(silo => silo.SiloAddress.ToString()).Order(StringComparer.Ordinal), silosServing.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task StopSilo_OfTwo_MarksItsRowDead_AndTheOtherKeepsServing()
    {
        await using var cluster = await PostgresTestCluster.StartAsync(database, siloCount: 2);
        var clusterId = cluster.Options.ClusterId;

        var staying = await StopSecondSiloAsync(cluster);

        Assert.Equal(ActiveStatus, (await ReadStatusesAsync(clusterId)).Single(row => row.Port == staying.SiloAddress.Endpoint.Port).Status);
        Assert.Equal([staying.GatewayAddress!.Endpoint.ToString()], await ReadGatewaysAsync(cluster.Client));

        // Grains that lived on the stopped silo are activated again on the one that stays. The client may still
        // be switching gateways, so the calls are retried until they all answer.
        IReadOnlyCollection<string> silosServing = [];
        await PostgresTestCluster.UntilAsync(
            async () =>
            {
                try
                {
                    silosServing = await SilosServingAsync(cluster.Client, Enumerable.Range(1000, 20).Select(key => (long)key));
                    return true;
                }
                catch (SiloUnavailableException)
                {
                    return false;
                }
            },
            "every grain answers after one silo stopped");
        Assert.Equal([staying.SiloAddress.ToString()], silosServing);
    }

    [Fact]
    public async Task CleanupDefunctSiloEntries_AfterASiloDied_RemovesOnlyTheDeadRow()
    {
        // Goal: the clean-up queries run against the real schema and delete the dead silo's row, not the live one's.
        await using var cluster = await PostgresTestCluster.StartAsync(database, siloCount: 2);
        var clusterId = cluster.Options.ClusterId;
        var staying = await StopSecondSiloAsync(cluster);

        var membershipTable = cluster.GetSiloServiceProvider(staying.SiloAddress).GetRequiredService<IMembershipTable>();
        await membershipTable.CleanupDefunctSiloEntriesAsync(DateTimeOffset.UtcNow.AddMinutes(1)).WaitAsync(PostgresTestCluster.WaitMax);

        var statuses = await ReadStatusesAsync(clusterId);
        Assert.Equal([(staying.SiloAddress.Endpoint.Port, ActiveStatus)], statuses.Select(row => (row.Port, row.Status)));
    }

    /// <summary>Stops the second of two silos, waits until its row is marked dead (the stopping silo writes that itself), and returns the first.</summary>
    private async Task<SiloHandle> StopSecondSiloAsync(TestCluster cluster)
    {
        var leaving = cluster.Silos[1];
        await cluster.StopSiloAsync(leaving).WaitAsync(PostgresTestCluster.WaitMax);
        await PostgresTestCluster.UntilAsync(
            async () => (await ReadStatusesAsync(cluster.Options.ClusterId)).Single(row => row.Port == leaving.SiloAddress.Endpoint.Port).Status == DeadStatus,
            "the stopped silo's row is marked dead");
        return cluster.Silos.Single();
    }

    private static async Task<IReadOnlyCollection<string>> SilosServingAsync(IClusterClient client, IEnumerable<long> grainKeys)
    {
        var identities = await Task.WhenAll(grainKeys.Select(key => client.GetGrain<IWhereGrain>(key).GetSiloIdentity()))
            .WaitAsync(PostgresTestCluster.WaitMax);
        return identities.ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>The gateways the client's list provider reads through the gateway query, as "address:port", in order.</summary>
    private static async Task<List<string>> ReadGatewaysAsync(IClusterClient client)
    {
        var gateways = await client.ServiceProvider.GetRequiredService<IGatewayListProvider>().GetGateways();
        return gateways.Select(gateway => $"{gateway.Host}:{gateway.Port}").Order(StringComparer.Ordinal).ToList();
    }

    private async Task<List<(int Port, int Status)>> ReadStatusesAsync(string clusterId)
    {
        await using var connection = new NpgsqlConnection(database.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT port, status FROM orleans_membership WHERE deployment_id = @id ORDER BY port", connection);
        command.Parameters.AddWithValue("id", clusterId);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<(int Port, int Status)>();
        while (await reader.ReadAsync())
        {
            rows.Add((reader.GetInt32(0), reader.GetInt32(1)));
        }

        return rows;
    }

    private async Task<T> ScalarAsync<T>(string sql, string id)
    {
        await using var connection = new NpgsqlConnection(database.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        command.Parameters.AddWithValue("id", id);
        return (T)(await command.ExecuteScalarAsync())!;
    }
}
