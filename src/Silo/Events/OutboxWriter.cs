using MyPay.Silo.Storage;
using Npgsql;
using NpgsqlTypes;

namespace MyPay.Silo.Events;

/// <summary>Stores the events of a batch's writes in <c>outbox_event</c>, in one statement, in the transaction of their states.</summary>
public sealed class OutboxWriter : RecordWriter<OutboxEvent>
{
    protected override void AddCommands(NpgsqlBatch batch, IReadOnlyList<OutboxEvent> records)
    {
        var insert = new NpgsqlBatchCommand(
            """
            INSERT INTO outbox_event (event_id, stream_key, sequence, type, payload, occurred_at)
            SELECT event_id, stream_key, sequence, type, payload::jsonb, occurred_at
            FROM unnest(@event_ids::text[], @stream_keys::text[], @sequences::bigint[], @types::text[], @payloads::text[], @occurred_ats::timestamptz[])
                 WITH ORDINALITY AS e(event_id, stream_key, sequence, type, payload, occurred_at, ordinal)
            ORDER BY ordinal
            """);
        insert.Parameters.Add(new NpgsqlParameter<string[]>("event_ids", [.. records.Select(e => e.EventId)]));
        insert.Parameters.Add(new NpgsqlParameter<string[]>("stream_keys", [.. records.Select(e => e.StreamKey)]));
        insert.Parameters.Add(new NpgsqlParameter<long[]>("sequences", [.. records.Select(e => e.Sequence)]));
        insert.Parameters.Add(new NpgsqlParameter<string[]>("types", [.. records.Select(e => e.Type)]));
        insert.Parameters.Add(new NpgsqlParameter<string[]>("payloads", [.. records.Select(e => e.Payload)]));
        insert.Parameters.Add(new NpgsqlParameter<DateTime[]>("occurred_ats", [.. records.Select(e => e.OccurredAt.UtcDateTime)]) { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz });
        batch.BatchCommands.Add(insert);
    }
}
