using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MyPay.Api.Hosting;
using MyPay.Silo.Hosting;
using MyPay.Testing;
using Npgsql;
using Orleans;
using Orleans.Configuration;
using Orleans.Runtime;

namespace MyPay.Api.Tests;

/// <summary>
/// The node's co-hosted Orleans silo: configured from <c>MYPAY_</c> settings (and refusing bad ones), started
/// only after every migration is applied, and a member of its cluster in the PostgreSQL membership table. Each test
/// starts its own node on its own fresh database, as a first run would.
/// </summary>
public sealed class OrleansHostingTests : IAsyncLifetime
{
    private const int ActiveStatus = 3;

    private readonly PostgresDatabase database = new();

    public Task InitializeAsync() => database.InitializeAsync();

    public Task DisposeAsync() => database.DisposeAsync();

    [Fact]
    public async Task FreshDatabase_EveryMigrationAppliedBeforeTheSiloStarts_AndItsRowIsActiveWithTheConfiguredIdAndPorts()
    {
        // Goal: a probe in the silo's own lifecycle, at the stage right after the first one and before any Orleans
        // provider starts, reads which migrations are applied. Had the silo started beside the migration instead of
        // after it, the probe would see fewer (or no table at all).
        var (siloPort, gatewayPort) = FreePorts.Pair();
        var settings = new Dictionary<string, string>
        {
            [MyPaySiloOptions.ClusterIdVariable] = "hosting-test",
            [MyPaySiloOptions.ServiceIdVariable] = "hosting-test-service",
            [MyPaySiloOptions.SiloPortVariable] = siloPort.ToString(CultureInfo.InvariantCulture),
            [MyPaySiloOptions.GatewayPortVariable] = gatewayPort.ToString(CultureInfo.InvariantCulture),
        };
        var probe = new MigrationProbe(database.ConnectionString);
        await using var app = new MyPayApp(database.ConnectionString, settings: settings);
        await using var probed = app.WithWebHostBuilder(web => web.ConfigureServices(
            services => services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(probe)));

        (await CreateReadyClientAsync(probed)).Dispose();

        var applied = await ReadAppliedMigrationsAsync(database.ConnectionString);
        Assert.Contains("silo/0001_grain_state.sql", applied);
        Assert.Contains("ledger/0001_ledger.sql", applied);
        Assert.Contains("clustering/0001_membership.sql", applied);
        Assert.Contains("reminders/0001_reminders.sql", applied);
        Assert.True(probe.SeenBeforeTheProviders.Task.IsCompleted, "The probe never ran in the silo's lifecycle.");
        Assert.Equal(applied, await probe.SeenBeforeTheProviders.Task);

        await using var connection = new NpgsqlConnection(database.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT deployment_id, address, port, proxy_port, status FROM orleans_membership", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<(string Cluster, string Address, int Port, int GatewayPort, int Status)>();
        while (await reader.ReadAsync())
        {
            rows.Add((reader.GetString(0), reader.GetString(1), reader.GetInt32(2), reader.GetInt32(3), reader.GetInt32(4)));
        }

        Assert.Equal([("hosting-test", "127.0.0.1", siloPort, gatewayPort, ActiveStatus)], rows);
    }

    [Theory]
    [InlineData(MyPaySiloOptions.SiloPortVariable, "0")]
    [InlineData(MyPaySiloOptions.SiloPortVariable, "65536")]
    [InlineData(MyPaySiloOptions.GatewayPortVariable, "thirty thousand")]
    [InlineData(MyPaySiloOptions.ClusterIdVariable, "")]
    [InlineData(MyPaySiloOptions.ServiceIdVariable, " ")]
    [InlineData(MyPaySiloOptions.AdvertisedAddressVariable, "localhost")]
    [InlineData(MyPaySiloOptions.GrainCallTimeoutVariable, "30 seconds")]
    [InlineData(MyPaySiloOptions.GrainCallTimeoutVariable, "00:00:00.500")]
    [InlineData(MyPaySiloOptions.GrainCallTimeoutVariable, "01:00:00")]
    [InlineData(MyPaySiloOptions.DirectoryCacheSizeVariable, "2")]
    [InlineData(MyPaySiloOptions.DirectoryCacheSizeVariable, "ten thousand")]
    public async Task Start_WithABadSetting_FailsNamingTheSetting(string variable, string value)
    {
        var validation = await StartingFailsValidationAsync(new Dictionary<string, string> { [variable] = value });

        Assert.Equal(typeof(MyPaySiloOptions), validation.OptionsType);
        Assert.Contains(variable, validation.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_WithTheSamePortForSiloAndGateway_FailsNamingBoth()
    {
        var settings = new Dictionary<string, string> { [MyPaySiloOptions.SiloPortVariable] = "40000", [MyPaySiloOptions.GatewayPortVariable] = "40000" };

        var validation = await StartingFailsValidationAsync(settings);

        Assert.Contains($"{MyPaySiloOptions.SiloPortVariable} and {MyPaySiloOptions.GatewayPortVariable} must differ", validation.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null, 10_000)]
    [InlineData("250000", 250_000)]
    public async Task DirectoryCacheSize_ReachesOrleansDirectory_BoundedByDefault(string? setting, int expected)
    {
        // Goal: the grain directory cache is bounded (Orleans' own default grows with the activations), and the setting reaches it.
        var settings = setting is null ? [] : new Dictionary<string, string> { [MyPaySiloOptions.DirectoryCacheSizeVariable] = setting };
        await using var app = new MyPayApp(database.ConnectionString, settings: settings);

        (await app.CreateReadyClientAsync()).Dispose();

        Assert.Equal(expected, app.Services.GetRequiredService<IOptions<GrainDirectoryOptions>>().Value.CacheSize);
    }

    [Theory]
    [InlineData(null, 1)]
    [InlineData("off", 0)]
    public async Task IdleMemoryTrim_RunsUnlessTurnedOff(string? setting, int expected)
    {
        var settings = setting is null ? [] : new Dictionary<string, string> { [IdleMemory.TrimSetting] = setting };
        await using var app = new MyPayApp(database.ConnectionString, settings: settings);

        (await app.CreateReadyClientAsync()).Dispose();

        Assert.Equal(expected, app.Services.GetServices<IHostedService>().OfType<IdleMemoryTrim>().Count());
    }

    [Fact]
    public async Task FirstStart_LogsNoMissingRelation_AndNoError()
    {
        // Goal: on a first run the providers, which read their queries as they start, never meet an empty schema,
        // and nothing else complains either. Information entries are kept too, so a missing relation reported at
        // any level is seen.
        var logs = new LogCollector();
        var settings = new Dictionary<string, string> { ["Logging:LogLevel:Default"] = "Information" };
        await using var app = new MyPayApp(database.ConnectionString, settings: settings, logs: logs);

        (await app.CreateReadyClientAsync()).Dispose();

        var entries = logs.Entries;
        Assert.Contains(entries, entry => entry.Category.StartsWith("Orleans.", StringComparison.Ordinal));
        Assert.Contains(entries, entry => entry.Category == "MyPay.Silo.Hosting.PostgresStartup" && entry.Message.StartsWith("Database migrated", StringComparison.Ordinal));
        Assert.Empty(entries.Where(entry => entry.Text.Contains("does not exist", StringComparison.OrdinalIgnoreCase)).Select(entry => entry.Text));
        Assert.Empty(entries.Where(entry => entry.Level >= LogLevel.Error).Select(entry => $"{entry.Category}: {entry.Text}"));
    }

    private static async Task<HttpClient> CreateReadyClientAsync(WebApplicationFactory<Program> app)
    {
        var client = app.CreateClient();
        using var response = await client.GetAsync(new Uri("/health/ready", UriKind.Relative));
        Assert.True(response.IsSuccessStatusCode, $"/health/ready answered {response.StatusCode} after the host started.");
        return client;
    }

    /// <summary>
    /// Starts a host set up as the node sets up its silo (<see cref="SiloSetup.AddMyPaySilo"/>) with
    /// <paramref name="settings"/> and returns the validation error it must fail with. A host of the test's own, not a
    /// <see cref="MyPayApp"/>: the test server's host is disposed when start-up fails, and asking it whether it started
    /// then throws <see cref="ObjectDisposedException"/> in place of the error (a race CI lost).
    /// </summary>
    private async Task<OptionsValidationException> StartingFailsValidationAsync(Dictionary<string, string> settings)
    {
        var configuration = new Dictionary<string, string?> { [SiloSetup.DatabaseUrlKey] = database.ConnectionString };
        foreach (var (key, value) in FreePorts.SiloSettings().Concat(settings))
        {
            configuration[key] = value;
        }

        var builder = WebApplication.CreateBuilder();
        builder.Configuration.AddInMemoryCollection(configuration);
        builder.AddMyPaySilo();
        await using var host = builder.Build();

        var error = await Assert.ThrowsAnyAsync<Exception>(() => host.StartAsync());

        return Assert.IsType<OptionsValidationException>(
            Innermost<OptionsValidationException>(error) ?? throw new Xunit.Sdk.XunitException($"Start-up failed, but not on options validation: {error}"));
    }

    private static Exception? Innermost<T>(Exception error)
        where T : Exception
    {
        for (Exception? current = error; current is not null; current = current.InnerException)
        {
            if (current is T)
            {
                return current;
            }

            if (current is AggregateException aggregate && aggregate.InnerExceptions.Select(Innermost<T>).FirstOrDefault(found => found is not null) is { } inner)
            {
                return inner;
            }
        }

        return null;
    }

    private static async Task<List<string>> ReadAppliedMigrationsAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT id FROM silo_schema_migration ORDER BY id", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var ids = new List<string>();
        while (await reader.ReadAsync())
        {
            ids.Add(reader.GetString(0));
        }

        return ids;
    }

    /// <summary>Reads the applied migrations at the silo's <see cref="ServiceLifecycleStage.RuntimeInitialize"/> stage, before any provider starts.</summary>
    private sealed class MigrationProbe(string connectionString) : ILifecycleParticipant<ISiloLifecycle>
    {
        public TaskCompletionSource<List<string>> SeenBeforeTheProviders { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Participate(ISiloLifecycle lifecycle) =>
            lifecycle.Subscribe(nameof(MigrationProbe), ServiceLifecycleStage.RuntimeInitialize, async _ =>
            {
                try
                {
                    SeenBeforeTheProviders.TrySetResult(await ReadAppliedMigrationsAsync(connectionString));
                }
                catch (PostgresException exception) when (exception.SqlState == PostgresErrorCodes.UndefinedTable)
                {
                    SeenBeforeTheProviders.TrySetResult([]);
                }
            });
    }
}
