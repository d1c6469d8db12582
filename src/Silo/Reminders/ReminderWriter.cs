using MyPay.Silo.Storage;
using Npgsql;
using NpgsqlTypes;

namespace MyPay.Silo.Reminders;

/// <summary>
/// Stores reminder changes with the grain writes that made them. Setting a reminder drops any lease on it,
/// so a tick in flight cannot complete over the new setting (its completion is conditional on its lease).
/// </summary>
internal sealed class ReminderWriter : RecordWriter<ReminderChange>
{
    protected override void AddCommands(NpgsqlBatch batch, IReadOnlyList<ReminderChange> records)
    {
        // The last change of one reminder wins; one statement cannot upsert a row twice.
        var latest = records.GroupBy(change => (change.Grain, change.Name)).Select(changes => changes.Last()).ToList();
        var sets = latest.Where(change => change.DueAt is not null).ToList();
        var clears = latest.Where(change => change.DueAt is null).ToList();
        if (sets.Count > 0)
        {
            var command = new NpgsqlBatchCommand(
                """
                INSERT INTO silo_reminder (grain_type, grain_key, name, due_at, period_ms)
                SELECT * FROM unnest(@grain_types::text[], @grain_keys::text[], @names::text[], @due_ats::timestamptz[], @period_ms::bigint[])
                ON CONFLICT (grain_type, grain_key, name) DO UPDATE
                SET due_at = excluded.due_at, period_ms = excluded.period_ms, lease_owner = NULL, lease_until = NULL
                """);
            command.Parameters.Add(new NpgsqlParameter<string[]>("grain_types", [.. sets.Select(change => change.Grain.Type)]));
            command.Parameters.Add(new NpgsqlParameter<string[]>("grain_keys", [.. sets.Select(change => change.Grain.Key)]));
            command.Parameters.Add(new NpgsqlParameter<string[]>("names", [.. sets.Select(change => change.Name)]));
            command.Parameters.Add(new NpgsqlParameter<DateTime[]>("due_ats", [.. sets.Select(change => change.DueAt!.Value.UtcDateTime)]) { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz });
            command.Parameters.Add(new NpgsqlParameter<long?[]>("period_ms", [.. sets.Select(change => (long?)change.Period?.TotalMilliseconds)]));
            batch.BatchCommands.Add(command);
        }

        if (clears.Count > 0)
        {
            var command = new NpgsqlBatchCommand(
                """
                DELETE FROM silo_reminder r
                USING unnest(@grain_types::text[], @grain_keys::text[], @names::text[]) AS c(grain_type, grain_key, name)
                WHERE r.grain_type = c.grain_type AND r.grain_key = c.grain_key AND r.name = c.name
                """);
            command.Parameters.Add(new NpgsqlParameter<string[]>("grain_types", [.. clears.Select(change => change.Grain.Type)]));
            command.Parameters.Add(new NpgsqlParameter<string[]>("grain_keys", [.. clears.Select(change => change.Grain.Key)]));
            command.Parameters.Add(new NpgsqlParameter<string[]>("names", [.. clears.Select(change => change.Name)]));
            batch.BatchCommands.Add(command);
        }
    }
}
