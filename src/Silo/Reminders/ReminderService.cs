using System.Diagnostics.Metrics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MyPay.Silo.Diagnostics;
using MyPay.Silo.Grains;
using Npgsql;

namespace MyPay.Silo.Reminders;

/// <summary>
/// Fires due reminders on this node. Each poll claims a bounded number of due ticks under a lease (rows
/// locked with SKIP LOCKED, so nodes never claim the same tick), delivers each to its grain as a turn, and
/// then moves the reminder on: a periodic one to its next boundary after now (a node down for a day fires
/// once, not once per missed tick), a one-shot one away. A failed handler's tick fires again after
/// <see cref="ReminderOptions.RetryDelay"/>.
/// </summary>
internal sealed partial class ReminderService(
    Silo silo, NpgsqlDataSource dataSource, IOptions<ReminderOptions> options, ILogger<ReminderService> logger) : BackgroundService
{
    private static readonly Counter<long> Fired = SiloMetrics.Reminders;
    private readonly string owner = $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid():N}";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Ticks run beside the polling, not before it: a handler that hangs (on a bank that never answers)
        // holds one slot of ClaimBatchMax, never the node's other reminders.
        var running = new HashSet<Task>();
        using var timer = new PeriodicTimer(options.Value.PollInterval);
        try
        {
            do
            {
                running.RemoveWhere(task => task.IsCompleted);
                var free = options.Value.ClaimBatchMax - running.Count;
                if (free <= 0)
                {
                    continue;
                }

                try
                {
                    foreach (var tick in await ClaimAsync(free, stoppingToken))
                    {
                        running.Add(FireAsync(tick));
                    }
                }
                catch (Exception exception) when (!stoppingToken.IsCancellationRequested)
                {
                    // The database is down or not migrated yet: ticks stay in the table, and a later poll fires them.
                    // Nothing here may stop the node.
                    LogPollFailed(logger, exception.Message);
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        finally
        {
            // Ticks under way finish and are recorded, so a graceful stop repeats none of them.
            await Task.WhenAll(running);
        }
    }

    /// <summary>Claims and fires one poll's worth of due ticks, waiting for them; returns how many were fired. For tests.</summary>
    internal async Task<int> FireDueAsync(CancellationToken cancellationToken)
    {
        var ticks = await ClaimAsync(options.Value.ClaimBatchMax, cancellationToken);
        await Task.WhenAll(ticks.Select(FireAsync));
        return ticks.Count;
    }

    private async Task<List<Tick>> ClaimAsync(int limit, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            """
            WITH due AS (
                SELECT grain_type, grain_key, name
                FROM silo_reminder
                WHERE due_at <= now() AND (lease_until IS NULL OR lease_until < now())
                ORDER BY due_at
                LIMIT @limit
                FOR UPDATE SKIP LOCKED)
            UPDATE silo_reminder r
            SET lease_owner = @owner, lease_until = now() + @lease
            FROM due
            WHERE r.grain_type = due.grain_type AND r.grain_key = due.grain_key AND r.name = due.name
            RETURNING r.grain_type, r.grain_key, r.name, r.due_at
            """);
        command.Parameters.Add(new NpgsqlParameter<int>("limit", limit));
        command.Parameters.Add(new NpgsqlParameter<string>("owner", owner));
        command.Parameters.Add(new NpgsqlParameter<TimeSpan>("lease", options.Value.Lease));
        var ticks = new List<Tick>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            ticks.Add(new Tick(new GrainId(reader.GetString(0), reader.GetString(1)), reader.GetString(2), reader.GetFieldValue<DateTime>(3)));
        }

        return ticks;
    }

    /// <summary>
    /// Delivers one tick and records what came of it. Recording is never cancelled: a tick that ran must be
    /// moved on (or released for retry), or it would fire again once its lease ran out.
    /// </summary>
    private async Task FireAsync(Tick tick)
    {
        var cancellationToken = CancellationToken.None;
        try
        {
            await silo.RemindAsync(tick.Grain, tick.Name);
        }
        catch (Exception exception)
        {
            LogHandlerFailed(logger, tick.Name, tick.Grain.ToString(), exception);
            Fired.Add(1, new KeyValuePair<string, object?>("grain_type", tick.Grain.Type), new KeyValuePair<string, object?>("outcome", "failed"));
            await RecordAsync(tick, () => ReleaseForRetryAsync(tick, cancellationToken));
            return;
        }

        Fired.Add(1, new KeyValuePair<string, object?>("grain_type", tick.Grain.Type), new KeyValuePair<string, object?>("outcome", "ok"));
        await RecordAsync(tick, () => AdvanceAsync(tick, cancellationToken));
    }

    /// <summary>Records a tick's result; if the database refuses, the lease runs out and the tick fires again (handlers are idempotent).</summary>
    private async Task RecordAsync(Tick tick, Func<Task> record)
    {
        try
        {
            await record();
        }
        catch (Exception exception)
        {
            LogRecordFailed(logger, tick.Name, tick.Grain.ToString(), exception.Message);
        }
    }

    /// <summary>
    /// Moves a fired reminder on, only if it is still ours and unchanged: a grain that set or cleared it
    /// during the tick has dropped our lease, and its change stands.
    /// </summary>
    private async Task AdvanceAsync(Tick tick, CancellationToken cancellationToken)
    {
        await using var batch = dataSource.CreateBatch();
        var remove = new NpgsqlBatchCommand(
            """
            DELETE FROM silo_reminder
            WHERE grain_type = @grain_type AND grain_key = @grain_key AND name = @name
              AND lease_owner = @owner AND due_at = @due_at AND period_ms IS NULL
            """);
        var advance = new NpgsqlBatchCommand(
            """
            UPDATE silo_reminder
            SET due_at = due_at + make_interval(secs => period_ms / 1000.0 * (floor(extract(epoch FROM now() - due_at) * 1000 / period_ms) + 1)),
                lease_owner = NULL, lease_until = NULL
            WHERE grain_type = @grain_type AND grain_key = @grain_key AND name = @name
              AND lease_owner = @owner AND due_at = @due_at AND period_ms IS NOT NULL
            """);
        foreach (var command in new[] { remove, advance })
        {
            AddTickParameters(command, tick);
            batch.BatchCommands.Add(command);
        }

        await batch.ExecuteNonQueryAsync(cancellationToken);
    }

    private async Task ReleaseForRetryAsync(Tick tick, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            """
            UPDATE silo_reminder
            SET due_at = now() + @retry, lease_owner = NULL, lease_until = NULL
            WHERE grain_type = @grain_type AND grain_key = @grain_key AND name = @name AND lease_owner = @owner AND due_at = @due_at
            """);
        AddTickParameters(command, tick);
        command.Parameters.Add(new NpgsqlParameter<TimeSpan>("retry", options.Value.RetryDelay));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private void AddTickParameters(NpgsqlBatchCommand command, Tick tick) => AddTickParameters(command.Parameters, tick);

    private void AddTickParameters(NpgsqlCommand command, Tick tick) => AddTickParameters(command.Parameters, tick);

    private void AddTickParameters(NpgsqlParameterCollection parameters, Tick tick)
    {
        parameters.Add(new NpgsqlParameter<string>("grain_type", tick.Grain.Type));
        parameters.Add(new NpgsqlParameter<string>("grain_key", tick.Grain.Key));
        parameters.Add(new NpgsqlParameter<string>("name", tick.Name));
        parameters.Add(new NpgsqlParameter<string>("owner", owner));
        parameters.Add(new NpgsqlParameter<DateTime>("due_at", tick.DueAt));
    }

    private sealed record Tick(GrainId Grain, string Name, DateTime DueAt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Reminder poll failed; retrying at the next poll: {Reason}")]
    private static partial void LogPollFailed(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Reminder '{Name}' of {Grain} ran, but its result could not be recorded; it fires again when its lease ends: {Reason}")]
    private static partial void LogRecordFailed(ILogger logger, string name, string grain, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Reminder '{Name}' of {Grain} failed; it fires again after the retry delay.")]
    private static partial void LogHandlerFailed(ILogger logger, string name, string grain, Exception exception);
}
