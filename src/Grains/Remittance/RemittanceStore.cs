using MyPay.Grains.Members;
using MyPay.Silo.Storage;
using Npgsql;
using NpgsqlTypes;

namespace MyPay.Grains.Remittance;

/// <summary>Writes remittance index rows with the grain writes that create them, and lists a member's remittances.</summary>
public sealed class RemittanceWriter : RecordWriter<RemittanceRow>
{
    protected override void AddCommands(NpgsqlBatch batch, IReadOnlyList<RemittanceRow> records)
    {
        var command = new NpgsqlBatchCommand(
            """
            INSERT INTO remittance (remittance_id, sender_id, recipient_member_id, recipient_bank_code, recipient_account, amount, created_at)
            SELECT * FROM unnest(@ids::text[], @senders::text[], @recipients::text[], @bank_codes::text[], @accounts::text[], @amounts::bigint[], @created_ats::timestamptz[])
            ON CONFLICT (remittance_id) DO NOTHING
            """);
        command.Parameters.Add(new NpgsqlParameter<string[]>("ids", [.. records.Select(row => row.RemittanceId)]));
        command.Parameters.Add(new NpgsqlParameter<string[]>("senders", [.. records.Select(row => row.SenderId)]));
        command.Parameters.Add(new NpgsqlParameter<string?[]>("recipients", [.. records.Select(row => row.RecipientMemberId)]));
        command.Parameters.Add(new NpgsqlParameter<string?[]>("bank_codes", [.. records.Select(row => row.RecipientAccount?.BankCode)]));
        command.Parameters.Add(new NpgsqlParameter<string?[]>("accounts", [.. records.Select(row => row.RecipientAccount?.AccountNumber)]));
        command.Parameters.Add(new NpgsqlParameter<long[]>("amounts", [.. records.Select(row => row.AmountWon)]));
        command.Parameters.Add(new NpgsqlParameter<DateTime[]>("created_ats", [.. records.Select(row => row.CreatedAt.UtcDateTime)]) { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz });
        batch.BatchCommands.Add(command);
    }
}

/// <summary>Marks remittance rows finished, in the grain's final write, so the ledger check counts only those in flight.</summary>
public sealed class RemittanceFinishedWriter : RecordWriter<RemittanceFinished>
{
    protected override void AddCommands(NpgsqlBatch batch, IReadOnlyList<RemittanceFinished> records)
    {
        var command = new NpgsqlBatchCommand(
            """
            UPDATE remittance r SET finished_at = f.finished_at
            FROM unnest(@ids::text[], @finished_ats::timestamptz[]) AS f(remittance_id, finished_at)
            WHERE r.remittance_id = f.remittance_id AND r.finished_at IS NULL
            """);
        command.Parameters.Add(new NpgsqlParameter<string[]>("ids", [.. records.Select(row => row.RemittanceId)]));
        command.Parameters.Add(new NpgsqlParameter<DateTime[]>("finished_ats", [.. records.Select(row => row.FinishedAt.UtcDateTime)]) { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz });
        batch.BatchCommands.Add(command);
    }
}

public sealed class RemittanceQueries(NpgsqlDataSource dataSource)
{
    public const int ListMax = 50;

    /// <summary>The member's latest remittances, sent or received, newest first.</summary>
    public Task<IReadOnlyList<string>> LatestForMemberAsync(string memberId, CancellationToken cancellationToken) => dataSource.LatestIdsAsync(
        """
        SELECT remittance_id FROM (
            (SELECT remittance_id, created_at FROM remittance WHERE sender_id = @member ORDER BY created_at DESC LIMIT @limit)
            UNION ALL
            (SELECT remittance_id, created_at FROM remittance WHERE recipient_member_id = @member ORDER BY created_at DESC LIMIT @limit)
        ) latest
        ORDER BY created_at DESC
        LIMIT @limit
        """,
        memberId,
        ListMax,
        cancellationToken);
}
