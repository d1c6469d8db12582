using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using MyPay.Silo.Migrations;
using MyPay.Silo.Storage.Postgres;
using Npgsql;

namespace MyPay.Silo.Hosting;

/// <summary>
/// Applies migrations at start-up, retrying while the database is unreachable, so a node started
/// before its database becomes ready by itself. Until then readiness says why not.
/// </summary>
internal sealed partial class PostgresStartup(
    NpgsqlDataSource dataSource, IEnumerable<MigrationSource> sources, ILogger<PostgresStartup> logger) : BackgroundService, IStorageHealth
{
    private static readonly TimeSpan RetryDelayMax = TimeSpan.FromSeconds(10);
    private volatile bool migrated;

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

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
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
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Database migrated; newly applied: {Applied}.")]
    private static partial void LogMigrated(ILogger logger, IReadOnlyList<string> applied);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Database unavailable for migrations; retrying in {DelaySeconds} s: {Reason}")]
    private static partial void LogMigrationDeferred(ILogger logger, double delaySeconds, string reason);
}
