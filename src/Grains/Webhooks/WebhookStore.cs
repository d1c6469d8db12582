using MyPay.Silo.Events;
using Npgsql;
using NpgsqlTypes;

namespace MyPay.Grains.Webhooks;

/// <summary>The webhook deliveries table: queue an event once per merchant, read a merchant's undelivered ones in order, mark them.</summary>
public sealed class WebhookStore(NpgsqlDataSource dataSource)
{
    /// <summary>Queues events for a merchant, in the order given; an event queued already (a redelivery from the stream) is left as it is.</summary>
    public async Task QueueAsync(string merchantId, IReadOnlyList<OutboxEvent> events)
    {
        await using var command = dataSource.CreateCommand(
            """
            INSERT INTO webhook_delivery (event_id, merchant_id, type, payload, occurred_at)
            SELECT e.event_id, @merchant, e.type, e.payload::jsonb, e.occurred_at
            FROM unnest(@event_ids::text[], @types::text[], @payloads::text[], @occurred_ats::timestamptz[]) WITH ORDINALITY
                AS e (event_id, type, payload, occurred_at, n)
            ORDER BY e.n
            ON CONFLICT (event_id) DO NOTHING
            """);
        command.Parameters.Add(new NpgsqlParameter<string>("merchant", merchantId));
        command.Parameters.Add(new NpgsqlParameter<string[]>("event_ids", [.. events.Select(e => e.EventId)]));
        command.Parameters.Add(new NpgsqlParameter<string[]>("types", [.. events.Select(e => e.Type)]));
        command.Parameters.Add(new NpgsqlParameter<string[]>("payloads", [.. events.Select(e => e.Payload)]));
        command.Parameters.Add(new NpgsqlParameter<DateTime[]>("occurred_ats", [.. events.Select(e => e.OccurredAt.UtcDateTime)]) { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz });
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>A merchant's undelivered events, oldest first.</summary>
    public async Task<IReadOnlyList<WebhookDelivery>> PendingAsync(string merchantId, int limit)
    {
        await using var command = dataSource.CreateCommand(
            """
            SELECT event_id, type, payload::text, occurred_at, attempts FROM webhook_delivery
            WHERE merchant_id = @merchant AND delivered_at IS NULL ORDER BY position LIMIT @limit
            """);
        command.Parameters.Add(new NpgsqlParameter<string>("merchant", merchantId));
        command.Parameters.Add(new NpgsqlParameter<int>("limit", limit));
        var pending = new List<WebhookDelivery>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            pending.Add(new WebhookDelivery(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetFieldValue<DateTimeOffset>(3), reader.GetInt32(4)));
        }

        return pending;
    }

    /// <summary>Records an attempt: delivered, or failed with why.</summary>
    public async Task RecordAttemptAsync(string eventId, bool delivered, string? error)
    {
        await using var command = dataSource.CreateCommand(
            """
            UPDATE webhook_delivery
            SET attempts = attempts + 1, last_error = @error, delivered_at = CASE WHEN @delivered THEN now() END
            WHERE event_id = @event_id AND delivered_at IS NULL
            """);
        command.Parameters.Add(new NpgsqlParameter<string>("event_id", eventId));
        command.Parameters.Add(new NpgsqlParameter<bool>("delivered", delivered));
        command.Parameters.Add(new NpgsqlParameter<string?>("error", error) { NpgsqlDbType = NpgsqlDbType.Text });
        await command.ExecuteNonQueryAsync();
    }
}
