using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using MyPay.Silo.Hosting;
using Npgsql;
using Orleans;
using Orleans.Configuration;
using Orleans.Runtime;

namespace MyPay.EndToEnd.Tests;

/// <summary>
/// What a test can see of a cluster of node processes from outside them: the membership table's rows, and, through an
/// Orleans client connected to the cluster's gateways, which silo holds each grain's activations.
/// </summary>
public sealed class ClusterView : IAsyncDisposable
{
    /// <summary>Orleans' <c>SiloStatus.Active</c> as the membership table stores it.</summary>
    public const int Active = 3;

    /// <summary>Orleans' <c>SiloStatus.Dead</c> as the membership table stores it.</summary>
    public const int Dead = 6;

    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(30);

    private readonly IHost host;

    private ClusterView(IHost host) => this.host = host;

    /// <summary>Connects an Orleans client to the cluster <paramref name="clusterId"/> on the database, through the gateways its membership lists.</summary>
    public static async Task<ClusterView> ConnectAsync(string connectionString, string clusterId)
    {
        var builder = new HostApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.UseOrleansClient(client => client.UsePostgresClustering(connectionString).Services.Configure<ClusterOptions>(cluster =>
        {
            cluster.ClusterId = clusterId;
            cluster.ServiceId = new MyPaySiloOptions().ServiceId;
        }));
        var host = builder.Build();
        using var timeout = new CancellationTokenSource(ConnectTimeout);
        await host.StartAsync(timeout.Token);
        return new ClusterView(host);
    }

    /// <summary>
    /// The activations of grains of <paramref name="grainType"/> (Orleans' type name, e.g. <c>wallet</c>) on every active
    /// silo: for each key, the silo port of each of its activations.
    /// </summary>
    public async Task<IReadOnlyDictionary<string, IReadOnlyList<int>>> ActivationsAsync(string grainType)
    {
        var management = host.Services.GetRequiredService<IClusterClient>().GetGrain<IManagementGrain>(0);
        var statistics = await management.GetDetailedGrainStatistics();
        return statistics
            .Where(activation => activation.GrainId.Type.ToString() == grainType)
            .GroupBy(activation => activation.GrainId.Key.ToString()!, activation => activation.SiloAddress.Endpoint.Port, StringComparer.Ordinal)
            .ToDictionary(silos => silos.Key, silos => (IReadOnlyList<int>)[.. silos], StringComparer.Ordinal);
    }

    /// <summary>The status of each silo port's latest generation in the cluster's membership table.</summary>
    public static async Task<IReadOnlyDictionary<int, int>> MembershipAsync(string connectionString, string clusterId)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            """
            SELECT DISTINCT ON (port) port, status
            FROM orleans_membership
            WHERE deployment_id = @cluster
            ORDER BY port, generation DESC
            """,
            connection);
        command.Parameters.AddWithValue("cluster", clusterId);
        await using var reader = await command.ExecuteReaderAsync();
        var statuses = new Dictionary<int, int>();
        while (await reader.ReadAsync())
        {
            statuses[reader.GetInt32(0)] = reader.GetInt32(1);
        }

        return statuses;
    }

    /// <summary>
    /// Polls the membership table until every silo port in <paramref name="expected"/> has its status, failing the test
    /// after <paramref name="waitMax"/> with the table as it last was. Returns how long it took.
    /// </summary>
    public static async Task<TimeSpan> UntilMembershipAsync(
        string connectionString, string clusterId, IReadOnlyDictionary<int, int> expected, TimeSpan waitMax)
    {
        var waited = Stopwatch.StartNew();
        while (true)
        {
            var statuses = await MembershipAsync(connectionString, clusterId);
            if (expected.All(silo => statuses.TryGetValue(silo.Key, out var status) && status == silo.Value))
            {
                return waited.Elapsed;
            }

            Assert.True(
                waited.Elapsed < waitMax,
                $"Cluster {clusterId}'s membership did not reach {Describe(expected)} within {waitMax.TotalSeconds} s; it is {Describe(statuses)}.");
            await Task.Delay(200);
        }
    }

    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(ConnectTimeout);
        await host.StopAsync(timeout.Token);
        host.Dispose();
    }

    private static string Describe(IReadOnlyDictionary<int, int> statuses) =>
        statuses.Count == 0 ? "empty" : string.Join(", ", statuses.Select(silo => $"port {silo.Key}: status {silo.Value}"));
}
