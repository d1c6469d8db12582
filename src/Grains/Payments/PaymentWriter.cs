using MyPay.Silo.Storage;
using Npgsql;
using NpgsqlTypes;

namespace MyPay.Grains.Payments;

/// <summary>Stores payment rows with the wallet writes that made them, in one multi-row statement per batch.</summary>
public sealed class PaymentWriter : RecordWriter<PaymentRecord>
{
    protected override void AddCommands(NpgsqlBatch batch, IReadOnlyList<PaymentRecord> records)
    {
        var command = new NpgsqlBatchCommand(
            """
            INSERT INTO payment (payment_id, payer_id, merchant_id, amount, commission_bps, commission, order_id, idempotency_key, created_at)
            SELECT * FROM unnest(@payment_ids::text[], @payer_ids::text[], @merchant_ids::text[], @amounts::bigint[], @commission_bps::bigint[],
                                 @commissions::bigint[], @order_ids::text[], @idempotency_keys::text[], @created_ats::timestamptz[])
            """);
        command.Parameters.Add(new NpgsqlParameter<string[]>("payment_ids", [.. records.Select(payment => payment.PaymentId)]));
        command.Parameters.Add(new NpgsqlParameter<string[]>("payer_ids", [.. records.Select(payment => payment.PayerId)]));
        command.Parameters.Add(new NpgsqlParameter<string[]>("merchant_ids", [.. records.Select(payment => payment.MerchantId)]));
        command.Parameters.Add(new NpgsqlParameter<long[]>("amounts", [.. records.Select(payment => payment.AmountWon)]));
        command.Parameters.Add(new NpgsqlParameter<long[]>("commission_bps", [.. records.Select(payment => payment.CommissionBps)]));
        command.Parameters.Add(new NpgsqlParameter<long[]>("commissions", [.. records.Select(payment => payment.CommissionWon)]));
        command.Parameters.Add(new NpgsqlParameter<string?[]>("order_ids", [.. records.Select(payment => payment.OrderId)]));
        command.Parameters.Add(new NpgsqlParameter<string[]>("idempotency_keys", [.. records.Select(payment => payment.IdempotencyKey)]));
        command.Parameters.Add(new NpgsqlParameter<DateTime[]>("created_ats", [.. records.Select(payment => payment.CreatedAt.UtcDateTime)]) { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz });
        batch.BatchCommands.Add(command);
    }
}
