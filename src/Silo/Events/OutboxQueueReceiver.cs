using System.Globalization;
using Microsoft.Extensions.Logging;
using Npgsql;
using Orleans.Providers.Streams.Common;
using Orleans.Runtime;
using Orleans.Streams;

namespace MyPay.Silo.Events;

/// <summary>
/// Reads the outbox as a queue, in commit order: only events of transactions older than every transaction still
/// running (so one that commits late, with a smaller position than events already read, is never skipped), ordered
/// by transaction and position, from the reader's checkpoint on; each read handed over as a container per stream
/// namespace. Events every consumer has been handed move the checkpoint; after a restart the events past it are
/// delivered again.
/// </summary>
internal sealed partial class OutboxQueueReceiver(NpgsqlDataSource dataSource, string reader, int batchSize, ILogger logger) : IQueueAdapterReceiver
{
    private OutboxPosition read = OutboxPosition.Start;

    /// <summary>Numbers the events this receiver hands out, in order: the stream tokens Orleans' cache orders them by.</summary>
    private long handedOut;

    public async Task Initialize(TimeSpan timeout)
    {
        using var cancellation = new CancellationTokenSource(timeout);
        await using var command = dataSource.CreateCommand("SELECT tx::text, position FROM outbox_reader WHERE reader = @reader");
        command.Parameters.Add(new NpgsqlParameter<string>("reader", reader));
        await using var rows = await command.ExecuteReaderAsync(cancellation.Token);
        read = await rows.ReadAsync(cancellation.Token)
            ? new OutboxPosition(ulong.Parse(rows.GetString(0), CultureInfo.InvariantCulture), rows.GetInt64(1))
            : OutboxPosition.Start;
        LogStarting(logger, reader, read.Tx, read.Position);
    }

    /// <summary>
    /// The committed events past the last read, a container per stream namespace (the namespace's consumers take them in
    /// one delivery each), in commit order within each.
    /// </summary>
    public async Task<IList<IBatchContainer>> GetQueueMessagesAsync(int maxCount)
    {
        var committed = await OutboxLog.ReadCommittedAsync(dataSource, read, maxCount > 0 ? Math.Min(maxCount, batchSize) : batchSize, since: null, CancellationToken.None);
        if (committed.Count == 0)
        {
            return [];
        }

        var (before, end) = (read, committed[^1].Position);
        read = end;
        var byNamespace = committed.Select(row => row.Event).GroupBy(published => published.StreamId.GetNamespace()!, StringComparer.Ordinal).ToList();
        return [.. byNamespace.Select((events, i) => (IBatchContainer)new OutboxBatchContainer(
            StreamId.Create(events.Key, OutboxSubscriptions.NamespaceStreamKey),
            [.. events],
            new EventSequenceTokenV2(++handedOut),
            i == byNamespace.Count - 1 ? end : before))];
    }

    /// <summary>Orleans hands back events once every consumer has them, oldest first: the last is the new checkpoint.</summary>
    public async Task MessagesDeliveredAsync(IList<IBatchContainer> messages)
    {
        if (messages.Count == 0)
        {
            return;
        }

        var delivered = messages.OfType<OutboxBatchContainer>().MaxBy(message => (message.Position.Tx, message.Position.Position))!.Position;
        await using var command = dataSource.CreateCommand(
            """
            INSERT INTO outbox_reader (reader, tx, position) VALUES (@reader, @tx::xid8, @position)
            ON CONFLICT (reader) DO UPDATE SET tx = excluded.tx, position = excluded.position, updated_at = now()
            WHERE (outbox_reader.tx, outbox_reader.position) < (excluded.tx, excluded.position)
            """);
        command.Parameters.Add(new NpgsqlParameter<string>("reader", reader));
        command.Parameters.Add(new NpgsqlParameter<string>("tx", delivered.Tx.ToString(CultureInfo.InvariantCulture)));
        command.Parameters.Add(new NpgsqlParameter<long>("position", delivered.Position));
        await command.ExecuteNonQueryAsync();
    }

    public Task Shutdown(TimeSpan timeout) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "Outbox reader {Reader} starts after transaction {Tx}, position {Position}")]
    private static partial void LogStarting(ILogger logger, string reader, ulong tx, long position);
}

/// <summary>The outbox table read in commit order, as its stream reader and an operator's rewind read it.</summary>
internal static class OutboxLog
{
    /// <summary>
    /// Up to <paramref name="limit"/> events past <paramref name="after"/>, of transactions older than every transaction
    /// still running (so one that commits late, with a smaller position, is never skipped), by transaction and
    /// position; with <paramref name="since"/>, only those that happened then or later.
    /// </summary>
    public static async Task<IReadOnlyList<(OutboxPosition Position, OutboxEvent Event)>> ReadCommittedAsync(
        NpgsqlDataSource dataSource, OutboxPosition after, int limit, DateTimeOffset? since, CancellationToken cancellationToken)
    {
        // tx is read as text under another name: ORDER BY takes a bare name for an output column first, so with the
        // output named tx it sorted by the text (where "1000" comes before "999", and a reader past 1000 would never
        // read 999) and could not walk the (tx, position) index: every poll scanned and sorted the whole outbox.
        await using var command = dataSource.CreateCommand(
            $"""
            SELECT tx::text AS tx_text, position, event_id, stream_key, sequence, type, payload::text, occurred_at
            FROM outbox_event
            WHERE (tx, position) > (@tx::xid8, @position) AND tx < pg_snapshot_xmin(pg_current_snapshot())
                {(since is null ? "" : "AND occurred_at >= @since")}
            ORDER BY tx, position
            LIMIT @limit
            """);
        command.Parameters.Add(new NpgsqlParameter<string>("tx", after.Tx.ToString(CultureInfo.InvariantCulture)));
        command.Parameters.Add(new NpgsqlParameter<long>("position", after.Position));
        command.Parameters.Add(new NpgsqlParameter<int>("limit", limit));
        if (since is { } from)
        {
            command.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("since", from.ToUniversalTime()));
        }

        var events = new List<(OutboxPosition, OutboxEvent)>();
        await using var rows = await command.ExecuteReaderAsync(cancellationToken);
        while (await rows.ReadAsync(cancellationToken))
        {
            events.Add((
                new OutboxPosition(ulong.Parse(rows.GetString(0), CultureInfo.InvariantCulture), rows.GetInt64(1)),
                new OutboxEvent(rows.GetString(2), rows.GetString(3), rows.GetInt64(4), rows.GetString(5), rows.GetString(6), rows.GetFieldValue<DateTimeOffset>(7))));
        }

        return events;
    }
}
