using MyPay.Grains.Banking;
using MyPay.Grains.Ledger;
using MyPay.Silo.Storage;
using Npgsql;
using NpgsqlTypes;

namespace MyPay.Grains.Settlement;

/// <summary>
/// Stores settlement rows with the settlement grain's writes: the first inserts the row and claims its payments and
/// refunds (a journal entry is claimed once, ever, by its primary key), taking them out of the open items; later ones
/// move its status on.
/// </summary>
public sealed class SettlementWriter : RecordWriter<SettlementWrite>
{
    protected override void AddCommands(NpgsqlBatch batch, IReadOnlyList<SettlementWrite> records)
    {
        var settlements = records.Select(write => write.Settlement).ToList();
        var upsert = new NpgsqlBatchCommand(
            """
            INSERT INTO settlement AS s (settlement_id, merchant_id, period, cutoff, net, items, status, to_bank_code, to_account_number,
                                         firmbanking_request_id, bank_fee, failure_reason, created_at, paid_at)
            SELECT * FROM unnest(@ids::text[], @merchants::text[], @periods::text[], @cutoffs::timestamptz[], @nets::bigint[], @items::integer[],
                                 @statuses::text[], @bank_codes::text[], @accounts::text[], @requests::text[], @fees::bigint[], @reasons::text[],
                                 @created_ats::timestamptz[], @paid_ats::timestamptz[])
            ON CONFLICT (settlement_id) DO UPDATE
            SET status = excluded.status, to_bank_code = excluded.to_bank_code, to_account_number = excluded.to_account_number,
                firmbanking_request_id = excluded.firmbanking_request_id, bank_fee = excluded.bank_fee,
                failure_reason = excluded.failure_reason, paid_at = excluded.paid_at
            WHERE s.status IN ('pending', 'sending')
            """);
        upsert.Parameters.Add(new NpgsqlParameter<string[]>("ids", [.. settlements.Select(s => s.SettlementId)]));
        upsert.Parameters.Add(new NpgsqlParameter<string[]>("merchants", [.. settlements.Select(s => s.MerchantId)]));
        upsert.Parameters.Add(new NpgsqlParameter<string[]>("periods", [.. settlements.Select(s => s.Period.Id)]));
        upsert.Parameters.Add(Timestamps("cutoffs", settlements.Select(s => (DateTimeOffset?)s.Period.Cutoff)));
        upsert.Parameters.Add(new NpgsqlParameter<long[]>("nets", [.. settlements.Select(s => s.NetWon)]));
        upsert.Parameters.Add(new NpgsqlParameter<int[]>("items", [.. settlements.Select(s => s.Items)]));
        upsert.Parameters.Add(new NpgsqlParameter<string[]>("statuses", [.. settlements.Select(s => StatusName(s.Status))]));
        upsert.Parameters.Add(new NpgsqlParameter<string?[]>("bank_codes", [.. settlements.Select(s => s.To?.BankCode)]));
        upsert.Parameters.Add(new NpgsqlParameter<string?[]>("accounts", [.. settlements.Select(s => s.To?.AccountNumber)]));
        upsert.Parameters.Add(new NpgsqlParameter<string?[]>("requests", [.. settlements.Select(s => s.FirmbankingRequestId)]));
        upsert.Parameters.Add(new NpgsqlParameter<long[]>("fees", [.. settlements.Select(s => s.BankFeeWon)]));
        upsert.Parameters.Add(new NpgsqlParameter<string?[]>("reasons", [.. settlements.Select(s => s.FailureReason)]));
        upsert.Parameters.Add(Timestamps("created_ats", settlements.Select(s => (DateTimeOffset?)s.CreatedAt)));
        upsert.Parameters.Add(Timestamps("paid_ats", settlements.Select(s => s.PaidAt)));
        batch.BatchCommands.Add(upsert);

        var claims = records.SelectMany(write => write.EntryIds.Select(entryId => (entryId, write.Settlement.SettlementId))).ToList();
        if (claims.Count > 0)
        {
            var claim = new NpgsqlBatchCommand(
                "INSERT INTO settlement_item (entry_id, settlement_id) SELECT * FROM unnest(@entry_ids::text[], @settlement_ids::text[])");
            claim.Parameters.Add(new NpgsqlParameter<string[]>("entry_ids", [.. claims.Select(c => c.entryId)]));
            claim.Parameters.Add(new NpgsqlParameter<string[]>("settlement_ids", [.. claims.Select(c => c.SettlementId)]));
            batch.BatchCommands.Add(claim);
        }

        foreach (var write in records.Where(write => write.EntryIds.Count > 0))
        {
            // One merchant's items before the cut-off, as the claim read them, through the merchant's index, joined by a
            // hash with the claimed ids: matching the ids alone scanned the whole table, and a filter by "= ANY" compares
            // each row with every id.
            var close = new NpgsqlBatchCommand(
                """
                DELETE FROM settlement_open_item o
                USING unnest(@entry_ids::text[]) AS claimed (entry_id)
                WHERE o.merchant_id = @merchant AND o.posted_at < @cutoff AND o.entry_id = claimed.entry_id
                """);
            close.Parameters.Add(new NpgsqlParameter<string>("merchant", write.Settlement.MerchantId));
            close.Parameters.Add(new NpgsqlParameter<DateTime>("cutoff", write.Settlement.Period.Cutoff.UtcDateTime));
            close.Parameters.Add(new NpgsqlParameter<string[]>("entry_ids", [.. write.EntryIds]));
            batch.BatchCommands.Add(close);
        }
    }

    public static string StatusName(SettlementStatus status) => status.ToString().ToLowerInvariant();

    private static NpgsqlParameter<DateTime?[]> Timestamps(string name, IEnumerable<DateTimeOffset?> values) =>
        new(name, [.. values.Select(value => value?.UtcDateTime)]) { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz };
}

/// <summary>Reads what settlement needs and shows: the payments and refunds not settled yet, and settlements with their lines.</summary>
/// <summary>What no settlement includes yet: merchants owed, their open items, the net owed, and the merchants owed most.</summary>
public sealed record PendingSettlements(long Merchants, long Items, long NetWon, IReadOnlyList<PendingMerchant> Largest);

/// <summary>A merchant's open items: how many, what they net, and when the oldest was posted.</summary>
public sealed record PendingMerchant(string MerchantId, long Items, long NetWon, DateTimeOffset OldestPostedAt);

public sealed class SettlementQueries(NpgsqlDataSource dataSource)
{
    public const int ListMax = 100;

    private const string SettlementColumns =
        "settlement_id, merchant_id, period, cutoff, net, items, status, to_bank_code, to_account_number, firmbanking_request_id, bank_fee, failure_reason, created_at, paid_at";

    /// <summary>The merchants owed for payments or refunds posted before <paramref name="cutoff"/> that no settlement includes yet (their open items).</summary>
    public async Task<IReadOnlyList<string>> MerchantsWithUnsettledAsync(DateTimeOffset cutoff, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT DISTINCT merchant_id FROM settlement_open_item WHERE posted_at < @cutoff");
        command.Parameters.Add(new NpgsqlParameter<DateTime>("cutoff", cutoff.UtcDateTime));
        var merchants = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            merchants.Add(reader.GetString(0));
        }

        return merchants;
    }

    /// <summary>
    /// What no settlement includes yet, for the operators' money view: the merchants owed, their open items and what
    /// they are owed in all, and the <paramref name="limit"/> merchants owed most.
    /// </summary>
    public async Task<PendingSettlements> PendingAsync(int limit, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            """
            WITH owed AS (
                SELECT merchant_id, count(*) AS items, sum(net) AS net, min(posted_at) AS oldest
                FROM settlement_open_item GROUP BY merchant_id
            )
            SELECT merchant_id, items, net, oldest, count(*) OVER (), sum(items) OVER (), sum(net) OVER ()
            FROM owed ORDER BY net DESC, merchant_id LIMIT @limit
            """);
        command.Parameters.Add(new NpgsqlParameter<int>("limit", limit));
        var merchants = new List<PendingMerchant>();
        var totals = new PendingSettlements(0, 0, 0, merchants);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            merchants.Add(new PendingMerchant(reader.GetString(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetFieldValue<DateTimeOffset>(3)));
            totals = totals with { Merchants = reader.GetInt64(4), Items = reader.GetInt64(5), NetWon = (long)reader.GetDecimal(6) };
        }

        return totals;
    }

    /// <summary>A merchant's open items posted before <paramref name="cutoff"/>: entry id and what the merchant is owed for it.</summary>
    public async Task<IReadOnlyList<(string EntryId, long NetWon)>> UnsettledAsync(string merchantId, DateTimeOffset cutoff, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT entry_id, net FROM settlement_open_item WHERE merchant_id = @merchant AND posted_at < @cutoff");
        command.Parameters.Add(new NpgsqlParameter<string>("merchant", merchantId));
        command.Parameters.Add(new NpgsqlParameter<DateTime>("cutoff", cutoff.UtcDateTime));
        var unsettled = new List<(string, long)>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            unsettled.Add((reader.GetString(0), reader.GetInt64(1)));
        }

        return unsettled;
    }

    /// <summary>The settlement that included a payment, or null while none has (its refunds are lines of the settlements that include them).</summary>
    public async Task<string?> OfPaymentAsync(string paymentId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT settlement_id FROM settlement_item WHERE entry_id = @entry");
        command.Parameters.Add(new NpgsqlParameter<string>("entry", $"payment:{paymentId}"));
        return await command.ExecuteScalarAsync(cancellationToken) as string;
    }

    /// <summary>The latest settlements, newest first: all of them, or one merchant's.</summary>
    public Task<IReadOnlyList<SettlementRecord>> LatestAsync(string? merchantId, CancellationToken cancellationToken) => ReadSettlementsAsync(
        $"SELECT {SettlementColumns} FROM settlement {(merchantId is null ? "" : "WHERE merchant_id = @merchant")} ORDER BY created_at DESC, settlement_id LIMIT {ListMax}",
        new NpgsqlParameter<string>("merchant", merchantId ?? ""),
        cancellationToken);

    public async Task<SettlementRecord?> FindAsync(string settlementId, CancellationToken cancellationToken) =>
        (await ReadSettlementsAsync($"SELECT {SettlementColumns} FROM settlement WHERE settlement_id = @id", new NpgsqlParameter<string>("id", settlementId), cancellationToken))
        .SingleOrDefault();

    /// <summary>The payments and refunds a settlement includes, oldest first, each with its amount, commission and what the merchant is owed for it.</summary>
    public async Task<IReadOnlyList<SettlementLine>> LinesAsync(string settlementId, string merchantId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            """
            SELECT e.entry_id, e.kind, e.reference, -r.amount, -coalesce(f.amount, 0), e.created_at
            FROM settlement_item i
            JOIN ledger_entry e ON e.entry_id = i.entry_id
            JOIN ledger_posting r ON r.entry_id = e.entry_id AND r.account = @receivable
            LEFT JOIN ledger_posting f ON f.entry_id = e.entry_id AND f.account = @fee_revenue
            WHERE i.settlement_id = @id
            ORDER BY e.created_at, e.entry_id
            """);
        command.Parameters.Add(new NpgsqlParameter<string>("id", settlementId));
        command.Parameters.Add(new NpgsqlParameter<string>("receivable", Accounts.Receivable(merchantId)));
        command.Parameters.Add(new NpgsqlParameter<string>("fee_revenue", Accounts.FeeRevenue));
        var lines = new List<SettlementLine>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var netWon = reader.GetInt64(3);
            var commissionWon = reader.GetInt64(4);
            lines.Add(new SettlementLine(reader.GetString(0), reader.GetString(1), reader.GetString(2), netWon + commissionWon, commissionWon, netWon, reader.GetFieldValue<DateTimeOffset>(5)));
        }

        return lines;
    }

    private async Task<IReadOnlyList<SettlementRecord>> ReadSettlementsAsync(string sql, NpgsqlParameter parameter, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(sql);
        command.Parameters.Add(parameter);
        var settlements = new List<SettlementRecord>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            settlements.Add(new SettlementRecord(
                reader.GetString(0),
                reader.GetString(1),
                new SettlementPeriod(reader.GetString(2), reader.GetFieldValue<DateTimeOffset>(3)),
                reader.GetInt64(4),
                reader.GetInt32(5),
                Enum.Parse<SettlementStatus>(reader.GetString(6), ignoreCase: true),
                Attempt: 0,
                reader.IsDBNull(7) ? null : new BankAccountNumber(reader.GetString(7), reader.GetString(8)),
                reader.IsDBNull(9) ? null : reader.GetString(9),
                reader.GetInt64(10),
                reader.IsDBNull(11) ? null : reader.GetString(11),
                reader.GetFieldValue<DateTimeOffset>(12),
                reader.IsDBNull(13) ? null : reader.GetFieldValue<DateTimeOffset>(13)));
        }

        return settlements;
    }
}
