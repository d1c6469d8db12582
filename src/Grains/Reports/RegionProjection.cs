using System.Text.Json;
using System.Threading.Channels;
using MyPay.Grains.Events;
using MyPay.Silo.Events;
using Npgsql;

namespace MyPay.Grains.Reports;

/// <summary>What the money-by-region report shows for a region: members whose address contains it, and their wallets' total.</summary>
public sealed record RegionMoney(string Region, long Members, long BalanceWon);

/// <summary>
/// Keeps <c>member_region</c> from members' and wallets' events, and answers the report from it. Events from many
/// consumer grains are applied together, a batch per transaction (as the grain store commits), each only past the
/// sequence already applied from its stream, in the same statement: applying an event twice changes nothing.
/// </summary>
public sealed class RegionProjection : IAsyncDisposable
{
    public const int RegionLengthMax = 100;

    private const int BatchMax = 512;

    private readonly NpgsqlDataSource dataSource;
    private readonly Channel<(IReadOnlyList<OutboxEvent> Events, TaskCompletionSource Applied)> queue =
        Channel.CreateUnbounded<(IReadOnlyList<OutboxEvent>, TaskCompletionSource)>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task applier;

    public RegionProjection(NpgsqlDataSource dataSource)
    {
        this.dataSource = dataSource;
        applier = Task.Run(ApplyLoopAsync);
    }

    /// <summary>Applies events of members' and wallets' streams; completes once committed (or once they are found to change nothing).</summary>
    public Task ApplyAsync(IReadOnlyList<OutboxEvent> events)
    {
        var applied = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        ObjectDisposedException.ThrowIf(!queue.Writer.TryWrite((events, applied)), this);
        return applied.Task;
    }

    public async Task<RegionMoney> ReportAsync(string region, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            "SELECT count(*), coalesce(sum(balance), 0)::bigint FROM member_region WHERE address IS NOT NULL AND strpos(address, @region) > 0");
        command.Parameters.Add(new NpgsqlParameter<string>("region", region));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return new RegionMoney(region, reader.GetInt64(0), reader.GetInt64(1));
    }

    public async ValueTask DisposeAsync()
    {
        queue.Writer.TryComplete();
        await applier;
    }

    private async Task ApplyLoopAsync()
    {
        var batch = new List<(IReadOnlyList<OutboxEvent> Events, TaskCompletionSource Applied)>();
        while (await queue.Reader.WaitToReadAsync())
        {
            for (var events = 0; events < BatchMax && queue.Reader.TryRead(out var item); events += item.Events.Count)
            {
                batch.Add(item);
            }

            try
            {
                await WriteAsync(batch.SelectMany(item => item.Events));
                batch.ForEach(item => item.Applied.TrySetResult());
            }
            catch (Exception exception)
            {
                batch.ForEach(item => item.Applied.TrySetException(exception));
            }

            batch.Clear();
        }
    }

    /// <summary>Per member, only the latest event of each stream counts: each tells the whole current value.</summary>
    private async Task WriteAsync(IEnumerable<OutboxEvent> events)
    {
        var addresses = new Dictionary<string, (string Value, long Sequence)>(StringComparer.Ordinal);
        var balances = new Dictionary<string, (long Value, long Sequence)>(StringComparer.Ordinal);
        foreach (var @event in events)
        {
            using var payload = JsonDocument.Parse(@event.Payload);
            var root = payload.RootElement;
            var streamNamespace = @event.StreamId.GetNamespace();
            var memberId = @event.StreamId.GetKeyAsString();
            if (streamNamespace == DomainEvents.MemberNamespace && root.TryGetProperty("address", out var address))
            {
                KeepLatest(addresses, memberId, address.GetString() ?? "", @event.Sequence);
            }
            else if (streamNamespace == DomainEvents.WalletNamespace && root.TryGetProperty("balanceAfterWon", out var balance))
            {
                KeepLatest(balances, memberId, balance.GetInt64(), @event.Sequence);
            }
        }

        if (addresses.Count == 0 && balances.Count == 0)
        {
            return;
        }

        await using var connection = await dataSource.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await using var batch = new NpgsqlBatch(connection, transaction);
        if (addresses.Count > 0)
        {
            batch.BatchCommands.Add(Upsert("address", "text", "member_sequence", addresses));
        }

        if (balances.Count > 0)
        {
            batch.BatchCommands.Add(Upsert("balance", "bigint", "wallet_sequence", balances));
        }

        await batch.ExecuteNonQueryAsync();
        await transaction.CommitAsync();
    }

    private static void KeepLatest<T>(Dictionary<string, (T Value, long Sequence)> latest, string memberId, T value, long sequence)
    {
        if (!latest.TryGetValue(memberId, out var known) || known.Sequence < sequence)
        {
            latest[memberId] = (value, sequence);
        }
    }

    /// <summary>Sets <paramref name="column"/> of each member to its latest value, where it is newer than the one applied from that stream.</summary>
    private static NpgsqlBatchCommand Upsert<T>(string column, string type, string sequenceColumn, Dictionary<string, (T Value, long Sequence)> latest)
    {
        var command = new NpgsqlBatchCommand(
            $"""
            INSERT INTO member_region (member_id, {column}, {sequenceColumn})
            SELECT * FROM unnest(@members::text[], @values::{type}[], @sequences::bigint[])
            ON CONFLICT (member_id) DO UPDATE SET {column} = excluded.{column}, {sequenceColumn} = excluded.{sequenceColumn}
            WHERE member_region.{sequenceColumn} < excluded.{sequenceColumn}
            """);
        command.Parameters.Add(new NpgsqlParameter<string[]>("members", [.. latest.Keys]));
        command.Parameters.Add(new NpgsqlParameter<T[]>("values", [.. latest.Values.Select(value => value.Value)]));
        command.Parameters.Add(new NpgsqlParameter<long[]>("sequences", [.. latest.Values.Select(value => value.Sequence)]));
        return command;
    }
}
