using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using MyPay.Silo.Migrations;
using MyPay.Silo.Storage.Postgres;
using Npgsql;

namespace MyPay.Silo.Hosting;

/// <summary>
/// Applies migrations at start-up, retrying while the database is unreachable, so a node started
/// before its database becomes ready by itself. Until then readiness says why not. The migration runs once per
/// process, started by whichever asks first: this service's own start, or the Orleans silo's first lifecycle stage
/// (<see cref="MigrateBeforeSiloStarts"/>), which waits for it so the providers find their tables and queries.
/// </summary>
internal sealed partial class PostgresStartup(
    NpgsqlDataSource dataSource, IEnumerable<MigrationSource> sources, ILogger<PostgresStartup> logger) : BackgroundService, IStorageHealth
{
    private static readonly TimeSpan RetryDelayMax = TimeSpan.FromSeconds(10);

    // Never disposed: a web host may stop its services again after disposing them (the app's Run and a test
    // factory both stop it), and a source with no timer and no linked tokens holds nothing to release.
    private readonly CancellationTokenSource stopping = new();
    private readonly Lock migrationLock = new();
    private Task? migration;
    private volatile bool migrated;

    /// <summary>
    /// Completes when every migration is applied, starting them if no one has; safe to call any number of times,
    /// from any thread. <paramref name="cancellationToken"/> ends this caller's wait, not the migration, which runs
    /// until it succeeds, fails on something other than an unreachable database, or the process stops.
    /// </summary>
    public Task EnsureMigratedAsync(CancellationToken cancellationToken)
    {
        lock (migrationLock)
        {
            migration ??= Task.Run(() => MigrateAsync(stopping.Token), CancellationToken.None);
        }

        return migration.WaitAsync(cancellationToken);
    }

    public async Task<string?> CheckAsync(CancellationToken cancellationToken)
    {
        if (!migrated)
        {
            return "The database schema has not been migrated yet.";
        }

        try
        {
            await using var command = dataSource.CreateCommand("SELECT 1");
            await command.ExecuteScalarAsync(cancellationToken);
            return null;
        }
        catch (Exception exception) when (PostgresGrainStorage.IsUnavailable(exception))
        {
            return "The database is unreachable.";
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await stopping.CancelAsync();
        await base.StopAsync(cancellationToken);
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) => EnsureMigratedAsync(stoppingToken);

    private async Task MigrateAsync(CancellationToken stoppingToken)
    {
        var runner = new MigrationRunner(dataSource, [.. sources]);
        var delay = TimeSpan.FromMilliseconds(250);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var applied = await runner.ApplyAsync(stoppingToken);
                LogMigrated(logger, applied);
                migrated = true;
                return;
            }
            catch (Exception exception) when (PostgresGrainStorage.IsUnavailable(exception) && !stoppingToken.IsCancellationRequested)
            {
                LogMigrationDeferred(logger, delay.TotalSeconds, exception.Message);
                await Task.Delay(delay, stoppingToken);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, RetryDelayMax.Ticks));
            }
        }

        // Stopped before the schema was there: whoever waits (the silo's start) must not go on as if it were.
        stoppingToken.ThrowIfCancellationRequested();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Database migrated; newly applied: {Applied}.")]
    private static partial void LogMigrated(ILogger logger, IReadOnlyList<string> applied);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Database unavailable for migrations; retrying in {DelaySeconds} s: {Reason}")]
    private static partial void LogMigrationDeferred(ILogger logger, double delaySeconds, string reason);
}
