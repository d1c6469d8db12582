using MyPay.Grains.Banking;
using MyPay.Silo.Storage;
using Npgsql;
using NpgsqlTypes;

namespace MyPay.Grains.Money;

/// <summary>
/// Stores <see cref="RechargeRecord"/>s appended to wallet writes: a pending recharge is inserted, a
/// finished one updates its row. A finished row never changes again.
/// </summary>
public sealed class RechargeWriter : RecordWriter<RechargeRecord>
{
    protected override void AddCommands(NpgsqlBatch batch, IReadOnlyList<RechargeRecord> records)
    {
        // A recharge has at most one record per batch: its wallet writes it, once per write, and reserves it in a
        // write before the one that finishes it. A second would abort the batch, as a bug should.
        var command = new NpgsqlBatchCommand(
            """
            INSERT INTO recharge AS r (recharge_id, member_id, amount, from_bank_code, from_account_number, idempotency_key,
                                       firmbanking_request_id, status, balance_after, failure_reason, requested_at, completed_at)
            SELECT * FROM unnest(@ids::text[], @members::text[], @amounts::bigint[], @bank_codes::text[], @account_numbers::text[],
                                 @idempotency_keys::text[], @firmbanking_ids::text[], @statuses::text[], @balances_after::bigint[],
                                 @failure_reasons::text[], @requested_ats::timestamptz[], @completed_ats::timestamptz[])
            ON CONFLICT (recharge_id) DO UPDATE
            SET status = excluded.status, balance_after = excluded.balance_after,
                failure_reason = excluded.failure_reason, completed_at = excluded.completed_at
            WHERE r.status = 'pending'
            """);
        command.Parameters.Add(new NpgsqlParameter<string[]>("ids", [.. records.Select(record => record.RechargeId)]));
        command.Parameters.Add(new NpgsqlParameter<string[]>("members", [.. records.Select(record => record.MemberId)]));
        command.Parameters.Add(new NpgsqlParameter<long[]>("amounts", [.. records.Select(record => record.AmountWon)]));
        command.Parameters.Add(new NpgsqlParameter<string[]>("bank_codes", [.. records.Select(record => record.From.BankCode)]));
        command.Parameters.Add(new NpgsqlParameter<string[]>("account_numbers", [.. records.Select(record => record.From.AccountNumber)]));
        command.Parameters.Add(new NpgsqlParameter<string[]>("idempotency_keys", [.. records.Select(record => record.IdempotencyKey)]));
        command.Parameters.Add(new NpgsqlParameter<string[]>("firmbanking_ids", [.. records.Select(record => record.FirmbankingRequestId)]));
        command.Parameters.Add(new NpgsqlParameter<string[]>("statuses", [.. records.Select(record => StatusName(record.Status))]));
        command.Parameters.Add(new NpgsqlParameter<long?[]>("balances_after", [.. records.Select(record => record.BalanceAfterWon)]));
        command.Parameters.Add(new NpgsqlParameter<string?[]>("failure_reasons", [.. records.Select(record => record.FailureReason)]));
        command.Parameters.Add(new NpgsqlParameter<DateTime[]>("requested_ats", [.. records.Select(record => record.RequestedAt.UtcDateTime)]) { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz });
        command.Parameters.Add(new NpgsqlParameter<DateTime?[]>("completed_ats", [.. records.Select(record => record.CompletedAt?.UtcDateTime)]) { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz });
        batch.BatchCommands.Add(command);
    }

    private static string StatusName(RechargeProgress status) => status.ToString().ToLowerInvariant();
}

/// <summary>Reads stored recharges.</summary>
public sealed class RechargeQueries(NpgsqlDataSource dataSource) : IRechargeRecords
{
    public async Task<RechargeRecord?> FindAsync(string rechargeId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            """
            SELECT recharge_id, member_id, amount, from_bank_code, from_account_number, idempotency_key, firmbanking_request_id,
                   status, balance_after, failure_reason, requested_at, completed_at
            FROM recharge
            WHERE recharge_id = @recharge_id
            """);
        command.Parameters.Add(new NpgsqlParameter<string>("recharge_id", rechargeId));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? new RechargeRecord(
                reader.GetString(0),
                reader.GetString(1),
                reader.GetInt64(2),
                new BankAccountNumber(reader.GetString(3), reader.GetString(4)),
                reader.GetString(5),
                reader.GetString(6),
                Enum.Parse<RechargeProgress>(reader.GetString(7), ignoreCase: true),
                reader.IsDBNull(8) ? null : reader.GetInt64(8),
                reader.IsDBNull(9) ? null : reader.GetString(9),
                reader.GetFieldValue<DateTimeOffset>(10),
                reader.IsDBNull(11) ? null : reader.GetFieldValue<DateTimeOffset>(11))
            : null;
    }
}
