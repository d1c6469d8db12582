using MyPay.Grains.Banking;
using MyPay.Grains.Ledger;
using MyPay.Grains.Money;
using MyPay.Grains.Payments;
using Npgsql;

namespace MyPay.Grains.Tests;

/// <summary>
/// Reads back what the grains' writes stored in PostgreSQL, as the records the grains appended (journal entries,
/// recharges, index rows), so a test asserts on the database rather than on what a grain believes. One place for the
/// tests' SQL.
/// </summary>
public sealed class StoredRows(NpgsqlDataSource dataSource, IRechargeRecords recharges, FirmbankingQueries firmbanking)
{
    /// <summary>
    /// The journal entries a member's requests made (<c>ledger_entry.member_id</c>), in the order they were stored,
    /// each with its postings in order. An entry stored without postings fails here, as <see cref="JournalEntry"/>
    /// refuses to be empty.
    /// </summary>
    public Task<IReadOnlyList<JournalEntry>> JournalAsync(string memberId) => QueryAsync(
        """
        SELECT e.entry_id, e.kind, e.member_id, e.idempotency_key, e.reference, e.created_at,
               coalesce(array_agg(p.account ORDER BY p.posting_id) FILTER (WHERE p.posting_id IS NOT NULL), '{}'),
               coalesce(array_agg(p.amount ORDER BY p.posting_id) FILTER (WHERE p.posting_id IS NOT NULL), '{}')
        FROM ledger_entry e
        LEFT JOIN ledger_posting p ON p.entry_id = e.entry_id
        WHERE e.member_id = @key
        GROUP BY e.entry_id
        ORDER BY min(p.posting_id) NULLS LAST, e.entry_id
        """,
        memberId,
        reader => new JournalEntry(
            reader.GetString(0),
            reader.GetString(1),
            reader.IsDBNull(2) ? null : reader.GetString(2),
            reader.IsDBNull(3) ? null : reader.GetString(3),
            reader.IsDBNull(4) ? null : reader.GetString(4),
            reader.GetFieldValue<DateTimeOffset>(5),
            [.. reader.GetFieldValue<string[]>(6).Zip(reader.GetFieldValue<long[]>(7), (account, amountWon) => new Posting(account, amountWon))]));

    /// <summary>A member's recharge rows, by recharge id, each read by the node's own query (<see cref="RechargeQueries"/>).</summary>
    public async Task<IReadOnlyList<RechargeRecord>> RechargesAsync(string memberId)
    {
        var ids = await QueryAsync("SELECT recharge_id FROM recharge WHERE member_id = @key ORDER BY recharge_id", memberId, reader => reader.GetString(0));
        var rows = new List<RechargeRecord>(ids.Count);
        foreach (var id in ids)
        {
            rows.Add(await recharges.FindAsync(id, CancellationToken.None) ?? throw new InvalidOperationException($"Recharge {id} vanished while being read."));
        }

        return rows;
    }

    /// <summary>The firmbanking index rows of one request (at most one: the request id is the key), read by the node's own query (<see cref="FirmbankingQueries"/>).</summary>
    public async Task<IReadOnlyList<FirmbankingIndexRow>> FirmbankingIndexAsync(string requestId) =>
        await firmbanking.FindAsync(requestId, CancellationToken.None) is { } row ? [row] : [];

    /// <summary>The versions of the stored states of grains keyed <paramref name="grainKey"/> (one per grain type): how many writes each grain made.</summary>
    public Task<IReadOnlyList<long>> StateVersionsAsync(string grainKey) => QueryAsync(
        "SELECT version FROM silo_grain_state WHERE grain_key = @key ORDER BY grain_type",
        grainKey,
        reader => reader.GetInt64(0));

    /// <summary>The commission changes one author made, of any merchant or the default, in the order they were stored.</summary>
    public Task<IReadOnlyList<CommissionChange>> CommissionChangesByAsync(string changedBy) => QueryAsync(
        "SELECT merchant_id, old_bps, new_bps, changed_by, changed_at FROM commission_change WHERE changed_by = @key ORDER BY change_id",
        changedBy,
        reader => new CommissionChange(
            reader.IsDBNull(0) ? null : reader.GetString(0),
            reader.IsDBNull(1) ? null : reader.GetInt64(1),
            reader.IsDBNull(2) ? null : reader.GetInt64(2),
            reader.GetString(3),
            reader.GetFieldValue<DateTimeOffset>(4)));

    /// <summary>The names of the durable reminders stored for a grain (its <c>GrainId</c> as text) in Orleans' ADO.NET reminder table.</summary>
    public Task<IReadOnlyList<string>> RemindersAsync(string grainId) => QueryAsync(
        "SELECT reminder_name FROM orleans_reminder WHERE grain_id = @key ORDER BY reminder_name",
        grainId,
        reader => reader.GetString(0));

    /// <summary>Runs a query with one text parameter, <c>@key</c>, and reads each row.</summary>
    private async Task<IReadOnlyList<T>> QueryAsync<T>(string sql, string key, Func<NpgsqlDataReader, T> read)
    {
        await using var command = dataSource.CreateCommand(sql);
        command.Parameters.Add(new NpgsqlParameter<string>("key", key));
        var rows = new List<T>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            rows.Add(read(reader));
        }

        return rows;
    }
}
