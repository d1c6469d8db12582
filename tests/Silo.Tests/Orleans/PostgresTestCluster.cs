using Microsoft.Extensions.Configuration;
using MyPay.Silo.Hosting;
using MyPay.Silo.Migrations;
using MyPay.Testing;
using Orleans.Hosting;
using Orleans.TestingHost;

namespace MyPay.Silo.Tests.Orleans;

/// <summary>
/// An Orleans test cluster (silos in this process) whose silos use the real ADO.NET clustering and reminder table
/// on a test database, and whose client finds its gateways in the same membership table. Nothing in memory stands
/// in: <see cref="TestClusterOptions.UseTestClusterMembership"/> is off. (The newer in-process builder keeps that
/// switch internal in 10.4.2 and always registers its in-memory table over ours.)
/// </summary>
public static class PostgresTestCluster
{
    /// <summary>How long a test waits for something the cluster does in the background (a tick, a status change).</summary>
    public static readonly TimeSpan WaitMax = TimeSpan.FromSeconds(60);

    /// <summary>The shortest reminder period the test silos accept (Orleans' default minimum is a minute).</summary>
    public static readonly TimeSpan ReminderPeriodMin = TimeSpan.FromSeconds(1);

    // The test cluster hands its properties to silos and clients as configuration; configurators are created by type.
    private const string ConnectionStringKey = "MyPayTestPostgres";

    public static async Task<IReadOnlyList<string>> MigrateAsync(PostgresDatabase database)
    {
        await using var dataSource = database.CreateDataSource();
        return await new MigrationRunner(dataSource, [MigrationSource.Clustering, MigrationSource.Reminders])
            .ApplyAsync(CancellationToken.None)
            .WaitAsync(WaitMax);
    }

    /// <summary>
    /// Starts <paramref name="siloCount"/> silos and a client. A test that starts a second cluster as the first's
    /// successor passes the first's service and cluster ids, as a redeployed node would have them.
    /// </summary>
    public static async Task<TestCluster> StartAsync(
        PostgresDatabase database, short siloCount, string? serviceId = null, string? clusterId = null)
    {
        var builder = new TestClusterBuilder(siloCount);
        builder.Options.UseTestClusterMembership = false;
        builder.Options.ConfigureFileLogging = false;
        builder.Options.ServiceId = serviceId ?? $"service-{Guid.NewGuid():N}";
        builder.Options.ClusterId = clusterId ?? $"cluster-{Guid.NewGuid():N}";
        builder.Properties[ConnectionStringKey] = database.ConnectionString;
        builder.AddSiloBuilderConfigurator<SiloConfigurator>();
        builder.AddClientBuilderConfigurator<ClientConfigurator>();

        var cluster = builder.Build();
        try
        {
            await cluster.DeployAsync().WaitAsync(WaitMax);
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>Polls <paramref name="condition"/> until it holds, failing the test with <paramref name="what"/> after <see cref="WaitMax"/>.</summary>
    public static async Task UntilAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow + WaitMax;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"Not within {WaitMax}: {what}");
            await Task.Delay(100);
        }
    }

    private static string ConnectionString(IConfiguration configuration) =>
        configuration[ConnectionStringKey] ?? throw new InvalidOperationException($"The test cluster has no {ConnectionStringKey} property.");

    private sealed class SiloConfigurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder siloBuilder) => siloBuilder
            .UsePostgresClustering(ConnectionString(siloBuilder.Configuration))
            .UsePostgresReminders(ConnectionString(siloBuilder.Configuration))
            .Configure<ReminderOptions>(options => options.MinimumReminderPeriod = ReminderPeriodMin);
    }

    private sealed class ClientConfigurator : IClientBuilderConfigurator
    {
        public void Configure(IConfiguration configuration, IClientBuilder clientBuilder) =>
            clientBuilder.UsePostgresClustering(ConnectionString(configuration));
    }
}
