using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using MyPay.Silo.Hosting;
using MyPay.Silo.Tests.Support;
using MyPay.Testing;
using Npgsql;

namespace MyPay.Silo.Tests;

/// <summary>
/// The node's one connection pool, shared by the grain store, the outbox and every query, is small by default
/// (<see cref="Storage.Postgres.PostgresStorageOptions.ConnectionsMax"/>): a burst must not leave dozens of
/// PostgreSQL backends in rotation. Against the real database: a connection past the bound waits, then fails.
/// </summary>
public sealed class ConnectionPoolTests : IAsyncLifetime
{
    private readonly PostgresDatabase database = new();

    public Task InitializeAsync() => database.InitializeAsync();

    public Task DisposeAsync() => database.DisposeAsync();

    [Fact]
    public async Task ByDefault_TheNodesPoolOpensEightConnections_AndANinthWaitsForOne()
    {
        await using var provider = NodeServices(database.ConnectionString, settings: []);
        var dataSource = provider.GetRequiredService<NpgsqlDataSource>();

        Assert.Equal(8, new NpgsqlConnectionStringBuilder(dataSource.ConnectionString).MaxPoolSize);
        await AssertPoolHoldsAsync(dataSource, 8);
    }

    [Fact]
    public async Task TheSetting_BoundsThePool()
    {
        await using var provider = NodeServices(database.ConnectionString, new() { ["Silo:Postgres:ConnectionsMax"] = "3" });

        await AssertPoolHoldsAsync(provider.GetRequiredService<NpgsqlDataSource>(), 3);
    }

    [Fact]
    public async Task ALowerMaximumPoolSizeInTheDatabaseAddress_Wins()
    {
        var connectionString = new NpgsqlConnectionStringBuilder(database.ConnectionString) { MaxPoolSize = 2 }.ConnectionString;
        await using var provider = NodeServices(connectionString, settings: []);

        await AssertPoolHoldsAsync(provider.GetRequiredService<NpgsqlDataSource>(), 2);
    }

    private static ServiceProvider NodeServices(string connectionString, Dictionary<string, string?> settings)
    {
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());
        services.AddLogging();
        services.AddPostgresGrainStorage(connectionString);
        return services.BuildServiceProvider();
    }

    /// <summary>Opens <paramref name="connectionsMax"/> connections and holds them: one more, asked for with a one-second timeout, is refused.</summary>
    private static async Task AssertPoolHoldsAsync(NpgsqlDataSource dataSource, int connectionsMax)
    {
        var held = new List<NpgsqlConnection>();
        try
        {
            for (var i = 0; i < connectionsMax; i++)
            {
                held.Add(await dataSource.OpenConnectionAsync().AsTask().WaitAsync(TestSilo.Timeout));
            }

            using var oneSecond = new CancellationTokenSource(TimeSpan.FromSeconds(1));
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await dataSource.OpenConnectionAsync(oneSecond.Token));
        }
        finally
        {
            foreach (var connection in held)
            {
                await connection.DisposeAsync();
            }
        }

        // Once one is back, the next caller gets it.
        await using var again = await dataSource.OpenConnectionAsync().AsTask().WaitAsync(TestSilo.Timeout);
        Assert.Equal(System.Data.ConnectionState.Open, again.State);
    }
}
