using MyPay.Silo.Storage;
using Npgsql;
using NpgsqlTypes;

namespace MyPay.Grains.Ledger;

/// <summary>
/// Stores journal entries with the grain writes that made them: entries, postings and wallet balances
/// in a few multi-row statements, added to the batch that commits them. The database re-checks what the
/// grains promise: entries sum to zero (trigger), no wallet below zero (CHECK), one entry per member
/// and idempotency key (UNIQUE). A violation aborts the batch: it is a bug, never a business outcome.
/// </summary>
public sealed class JournalWriter : RecordWriter<JournalEntry>
{
    protected override void AddCommands(NpgsqlBatch batch, IReadOnlyList<JournalEntry> records)
    {
        var postings = records.SelectMany(entry => entry.Postings.Select(posting => (entry.EntryId, Posting: posting))).ToList();
        var walletDeltas = postings
            .Where(pair => pair.Posting.Account.StartsWith(Accounts.WalletPrefix, StringComparison.Ordinal))
            .GroupBy(pair => pair.Posting.Account[Accounts.WalletPrefix.Length..])
            .Select(wallet => (MemberId: wallet.Key, DeltaWon: -wallet.Sum(pair => pair.Posting.AmountWon)))
            .OrderBy(wallet => wallet.MemberId, StringComparer.Ordinal)
            .ToList();

        var entries = new NpgsqlBatchCommand(
            """
            INSERT INTO ledger_entry (entry_id, kind, member_id, idempotency_key, reference, created_at)
            SELECT * FROM unnest(@entry_ids::text[], @kinds::text[], @member_ids::text[], @idempotency_keys::text[], @references::text[], @created_ats::timestamptz[])
            """);
        entries.Parameters.Add(new NpgsqlParameter<string[]>("entry_ids", [.. records.Select(entry => entry.EntryId)]));
        entries.Parameters.Add(new NpgsqlParameter<string[]>("kinds", [.. records.Select(entry => entry.Kind)]));
        entries.Parameters.Add(new NpgsqlParameter<string?[]>("member_ids", [.. records.Select(entry => entry.MemberId)]));
        entries.Parameters.Add(new NpgsqlParameter<string?[]>("idempotency_keys", [.. records.Select(entry => entry.IdempotencyKey)]));
        entries.Parameters.Add(new NpgsqlParameter<string?[]>("references", [.. records.Select(entry => entry.Reference)]));
        entries.Parameters.Add(new NpgsqlParameter<DateTime[]>("created_ats", [.. records.Select(entry => entry.CreatedAt.UtcDateTime)]) { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz });
        batch.BatchCommands.Add(entries);

        // A wallet the batch credits (on balance) gets a row first, at 0, which the CHECK allows, so the postings' statement
        // below moves rows that exist. (An INSERT ... ON CONFLICT DO UPDATE would check the CHECK against the proposed row,
        // a negative delta, before finding the conflict.) A wallet the batch debits had money, so it has its row: a payment's
        // batch has no wallet to add. Should one have none (a bug), nothing moves it, its postings' balance_after goes below
        // zero and their CHECK refuses the batch.
        var credited = walletDeltas.Where(wallet => wallet.DeltaWon >= 0).ToList();
        if (credited.Count > 0)
        {
            var ensure = new NpgsqlBatchCommand(
                """
                INSERT INTO wallet_balance (member_id, balance)
                SELECT member_id, 0 FROM unnest(@member_ids::text[]) AS w(member_id)
                ON CONFLICT (member_id) DO NOTHING
                """);
            ensure.Parameters.Add(new NpgsqlParameter<string[]>("member_ids", [.. credited.Select(wallet => wallet.MemberId)]));
            batch.BatchCommands.Add(ensure);
        }

        // A wallet posting's balance_after is computed here, from the balance the wallet_balance row had before this
        // statement moved it (the UPDATE locks the row, so concurrent batches touching one wallet serialise instead of
        // racing) and the batch's own postings in order. Money sent by another member reaches this wallet in that
        // member's batch, so only the database sees every change of a wallet in order. Wallets are passed in one order
        // (two batches locking the same wallets in opposite orders would deadlock; the committer retries one that does).
        var postingRows = new NpgsqlBatchCommand(
            """
            WITH moved AS (
                UPDATE wallet_balance w
                SET balance = w.balance + d.delta
                FROM unnest(@wallet_members::text[], @wallet_deltas::bigint[]) AS d(member_id, delta)
                WHERE w.member_id = d.member_id
                RETURNING 'wallet:' || w.member_id AS account, w.balance - d.delta AS balance_before
            ),
            input AS (
                SELECT * FROM unnest(@entry_ids::text[], @accounts::text[], @amounts::bigint[]) WITH ORDINALITY AS p(entry_id, account, amount, ordinal)
            )
            INSERT INTO ledger_posting (entry_id, account, amount, balance_after)
            SELECT i.entry_id, i.account, i.amount,
                   CASE WHEN i.account LIKE 'wallet:%'
                        THEN coalesce(m.balance_before, 0) - sum(i.amount) OVER (PARTITION BY i.account ORDER BY i.ordinal)
                   END
            FROM input i
            LEFT JOIN moved m ON m.account = i.account
            ORDER BY i.ordinal
            """);
        postingRows.Parameters.Add(new NpgsqlParameter<string[]>("entry_ids", [.. postings.Select(pair => pair.EntryId)]));
        postingRows.Parameters.Add(new NpgsqlParameter<string[]>("accounts", [.. postings.Select(pair => pair.Posting.Account)]));
        postingRows.Parameters.Add(new NpgsqlParameter<long[]>("amounts", [.. postings.Select(pair => pair.Posting.AmountWon)]));
        postingRows.Parameters.Add(new NpgsqlParameter<string[]>("wallet_members", [.. walletDeltas.Select(wallet => wallet.MemberId)]));
        postingRows.Parameters.Add(new NpgsqlParameter<long[]>("wallet_deltas", [.. walletDeltas.Select(wallet => wallet.DeltaWon)]));
        batch.BatchCommands.Add(postingRows);
    }
}
