using Npgsql;

namespace MyPay.Grains.Payments;

/// <summary>A change as listed for a merchant, with the merchant's rate in force right after it: its own, or the default.</summary>
public sealed record CommissionHistoryEntry(CommissionChange Change, long RateInForceBps);

/// <summary>Reads the commission history.</summary>
public sealed class CommissionHistoryQueries(NpgsqlDataSource dataSource)
{
    /// <summary>The most changes one listing returns.</summary>
    public const int ListMax = 100;

    /// <summary>The latest <paramref name="limit"/> rate changes of every merchant and of the default, newest first.</summary>
    public async Task<IReadOnlyList<CommissionChange>> LatestAsync(int limit, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            "SELECT merchant_id, old_bps, new_bps, changed_by, changed_at FROM commission_change ORDER BY changed_at DESC, change_id DESC LIMIT @limit");
        command.Parameters.Add(new NpgsqlParameter<int>("limit", limit));
        var changes = new List<CommissionChange>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            changes.Add(ReadChange(reader));
        }

        return changes;
    }

    /// <summary>
    /// A merchant's own rate changes and the default's, newest first, at most <see cref="ListMax"/>. Each carries the
    /// merchant's rate in force right after it, from the rows up to it alone (its own latest rate, else the latest
    /// default, else the built-in one), so the listing is one consistent snapshot.
    /// </summary>
    public async Task<IReadOnlyList<CommissionHistoryEntry>> LatestForMerchantAsync(string merchantId, CancellationToken cancellationToken)
    {
        // Each scope is a range of the one index, newest first; the two ranges are merged and cut again.
        await using var command = dataSource.CreateCommand(
            """
            SELECT c.merchant_id, c.old_bps, c.new_bps, c.changed_by, c.changed_at,
                   coalesce(
                       (SELECT own.new_bps FROM commission_change own
                        WHERE own.merchant_id = @merchant AND (own.changed_at, own.change_id) <= (c.changed_at, c.change_id)
                        ORDER BY own.changed_at DESC, own.change_id DESC LIMIT 1),
                       (SELECT d.new_bps FROM commission_change d
                        WHERE d.merchant_id IS NULL AND (d.changed_at, d.change_id) <= (c.changed_at, c.change_id)
                        ORDER BY d.changed_at DESC, d.change_id DESC LIMIT 1),
                       @built_in_bps)
            FROM (
                (SELECT * FROM commission_change WHERE merchant_id = @merchant ORDER BY changed_at DESC, change_id DESC LIMIT @limit)
                UNION ALL
                (SELECT * FROM commission_change WHERE merchant_id IS NULL ORDER BY changed_at DESC, change_id DESC LIMIT @limit)
            ) c
            ORDER BY c.changed_at DESC, c.change_id DESC
            LIMIT @limit
            """);
        command.Parameters.Add(new NpgsqlParameter<string>("merchant", merchantId));
        command.Parameters.Add(new NpgsqlParameter<long>("built_in_bps", Commission.DefaultRateBps));
        command.Parameters.Add(new NpgsqlParameter<int>("limit", ListMax));
        var entries = new List<CommissionHistoryEntry>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            entries.Add(new CommissionHistoryEntry(ReadChange(reader), reader.GetInt64(5)));
        }

        return entries;
    }

    /// <summary>A change from a row's first five columns: merchant (null: the default), old and new rate, by whom, when.</summary>
    private static CommissionChange ReadChange(NpgsqlDataReader reader) => new(
        reader.IsDBNull(0) ? null : reader.GetString(0),
        reader.IsDBNull(1) ? null : reader.GetInt64(1),
        reader.IsDBNull(2) ? null : reader.GetInt64(2),
        reader.GetString(3),
        reader.GetFieldValue<DateTimeOffset>(4));
}
