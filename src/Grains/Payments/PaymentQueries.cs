using Npgsql;

namespace MyPay.Grains.Payments;

/// <summary>Reads stored payments.</summary>
public sealed class PaymentQueries(NpgsqlDataSource dataSource)
{
    public async Task<PaymentRecord?> FindAsync(string paymentId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            """
            SELECT payment_id, payer_id, merchant_id, amount, commission_bps, commission, order_id, idempotency_key, created_at
            FROM payment
            WHERE payment_id = @payment_id
            """);
        command.Parameters.Add(new NpgsqlParameter<string>("payment_id", paymentId));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? new PaymentRecord(
                reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetInt64(3), reader.GetInt64(4), reader.GetInt64(5),
                reader.IsDBNull(6) ? null : reader.GetString(6), reader.GetString(7), reader.GetFieldValue<DateTimeOffset>(8))
            : null;
    }
}
