using System.Security.Cryptography;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace MyPay.Bench.Peer;

/// <summary>
/// A payment in one PostgreSQL transaction of two round trips and a commit: first the answer already given under the
/// Idempotency-Key, both parties, the default commission rate and the payer's wallet_balance row locked FOR UPDATE;
/// then the balance updated and the journal entry, its postings and the payment row inserted. The rules are MyPay's:
/// the payer is an active member, the payee an active merchant, the amount 1 to 2,000,000 won, the commission rounded
/// down; a key sent again with the same request is answered as the first time, with another request refused (422).
/// Two requests with one key at once: the second waits on the wallet's lock, then the unique (payer, key) constraints
/// refuse its insert, and it is answered from the first's rows.
/// </summary>
public sealed class PeerPayments(NpgsqlDataSource database, TimeProvider time)
{
    private const string ProblemTypeBase = "https://mypay.example/problems/";
    private const long PaymentCapWon = 2_000_000;
    private const int OrderIdLengthMax = 100;
    private const int KeyLengthMax = 200;
    private const long BasisPointsPerWhole = 10_000;

    /// <summary>MyPay's rate when neither the merchant nor an operator has set one (Commission.DefaultRateBps).</summary>
    private const long DefaultRateBps = 250;

    /// <summary>Members' profiles as MyPay's member grains store them: JSON, type and status as numbers (0: customer, active).</summary>
    private const int MerchantType = 1;
    private const int ActiveStatus = 0;

    public async Task<IResult> PayAsync(PayRequest request, HttpContext http)
    {
        if (http.User.IsInRole("operator") || http.User.FindFirst("sub")?.Value is not { } payerId)
        {
            return Problem(StatusCodes.Status403Forbidden, "forbidden", "Only members pay.");
        }

        var errors = new Dictionary<string, string[]>();
        if (request.MerchantId is not { Length: > 0 and <= 64 })
        {
            errors["merchantId"] = ["merchantId must be a member id."];
        }

        if (request.Amount is not (> 0 and <= PaymentCapWon))
        {
            errors["amount"] = [$"amount must be 1 to {PaymentCapWon} won."];
        }

        if (request.OrderId is { } orderId && (orderId.Length is 0 or > OrderIdLengthMax || orderId.Any(char.IsControl)))
        {
            errors["orderId"] = [$"orderId must be 1 to {OrderIdLengthMax} characters without control characters."];
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, title: "The payment is not valid.", type: ProblemTypeBase + "invalid-payment");
        }

        var key = http.Request.Headers["Idempotency-Key"].ToString();
        if (key.Length is 0 or > KeyLengthMax || key.Any(character => character is < '!' or > '~'))
        {
            return Problem(StatusCodes.Status400BadRequest, "idempotency-key-required", $"Send an Idempotency-Key header of 1 to {KeyLengthMax} visible ASCII characters.");
        }

        try
        {
            return await PayOnceAsync(payerId, request.MerchantId!, request.Amount!.Value, request.OrderId, key, http.RequestAborted);
        }
        catch (PostgresException conflict) when (conflict.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            // The same key committed meanwhile: its rows now answer.
            return await PayOnceAsync(payerId, request.MerchantId!, request.Amount!.Value, request.OrderId, key, http.RequestAborted);
        }
    }

    public async Task<IResult> GetWalletAsync(string memberId, HttpContext http)
    {
        if (!http.User.IsInRole("operator") && http.User.FindFirst("sub")?.Value != memberId)
        {
            return Problem(StatusCodes.Status403Forbidden, "forbidden", "Only the member or an operator reads a wallet.");
        }

        await using var command = database.CreateCommand("SELECT balance FROM wallet_balance WHERE member_id = $1");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = memberId });
        return TypedResults.Ok(new WalletResponse(memberId, await command.ExecuteScalarAsync(http.RequestAborted) as long? ?? 0));
    }

    private async Task<IResult> PayOnceAsync(string payerId, string merchantId, long amountWon, string? orderId, string key, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using var reads = new NpgsqlBatch(connection, transaction)
        {
            BatchCommands =
            {
                Command(
                    """
                    SELECT p.payment_id, p.merchant_id, p.amount, p.commission, p.order_id, w.balance_after
                    FROM ledger_entry e
                    JOIN payment p ON p.payment_id = e.reference
                    JOIN ledger_posting w ON w.entry_id = e.entry_id AND w.account = 'wallet:' || p.payer_id
                    WHERE e.member_id = $1 AND e.idempotency_key = $2 AND e.kind = 'payment'
                    """,
                    payerId, key),
                Command(
                    """
                    SELECT grain_key, (profile->>'type')::int, (profile->>'status')::int, (profile->>'commissionBps')::bigint
                    FROM silo_grain_state, jsonb_extract_path(convert_from(payload, 'UTF8')::jsonb, 'profile') AS profile
                    WHERE grain_type = 'member' AND grain_key IN ($1, $2)
                    """,
                    payerId, merchantId),
                Command("SELECT (convert_from(payload, 'UTF8')::jsonb->>'defaultBps')::bigint FROM silo_grain_state WHERE grain_type = 'commission' AND grain_key = 'default'"),
                Command("SELECT balance FROM wallet_balance WHERE member_id = $1 FOR UPDATE", payerId),
            },
        };

        Answered? answered = null;
        var parties = new Dictionary<string, Party>(StringComparer.Ordinal);
        long? defaultRateBps = null;
        long balanceWon = 0;
        await using (var reader = await reads.ExecuteReaderAsync(cancellationToken))
        {
            if (await reader.ReadAsync(cancellationToken))
            {
                answered = new Answered(reader.GetString(0), reader.GetString(1), reader.GetInt64(2), reader.GetInt64(3), reader.IsDBNull(4) ? null : reader.GetString(4), reader.GetInt64(5));
            }

            await reader.NextResultAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                parties[reader.GetString(0)] = new Party(reader.GetInt32(1), reader.GetInt32(2), reader.IsDBNull(3) ? null : reader.GetInt64(3));
            }

            await reader.NextResultAsync(cancellationToken);
            if (await reader.ReadAsync(cancellationToken) && !reader.IsDBNull(0))
            {
                defaultRateBps = reader.GetInt64(0);
            }

            await reader.NextResultAsync(cancellationToken);
            if (await reader.ReadAsync(cancellationToken))
            {
                balanceWon = reader.GetInt64(0);
            }
        }

        if (answered is not null)
        {
            return answered.MerchantId == merchantId && answered.AmountWon == amountWon && answered.OrderId == orderId
                ? Created(answered.PaymentId, payerId, merchantId, amountWon, answered.CommissionWon, orderId, answered.BalanceWon)
                : Problem(StatusCodes.Status422UnprocessableEntity, "idempotency-key-reused", $"Key '{key}' was first used with another request body; use a new key for a new request.");
        }

        if (Refusal(payerId, merchantId, parties) is { } refusal)
        {
            return refusal;
        }

        if (balanceWon < amountWon)
        {
            return Problem(StatusCodes.Status422UnprocessableEntity, "insufficient-funds", $"The payment is {amountWon} won; the wallet holds {balanceWon} won.");
        }

        var rateBps = parties[merchantId].CommissionBps ?? defaultRateBps ?? DefaultRateBps;
        var commissionWon = checked(amountWon * rateBps) / BasisPointsPerWhole;
        var paymentId = "pay" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(10));
        var entryId = "payment:" + paymentId;
        var balanceAfterWon = balanceWon - amountWon;
        var at = time.GetUtcNow().UtcDateTime;
        await using var writes = new NpgsqlBatch(connection, transaction)
        {
            BatchCommands =
            {
                Command("UPDATE wallet_balance SET balance = $2 WHERE member_id = $1", payerId, balanceAfterWon),
                Command(
                    "INSERT INTO ledger_entry (entry_id, kind, member_id, idempotency_key, reference, created_at) VALUES ($1, 'payment', $2, $3, $4, $5)",
                    entryId, payerId, key, paymentId, at),
                // One statement, so the ledger's per-statement trigger sees the entry whole. A zero posting is left out, as MyPay does.
                Command(
                    """
                    INSERT INTO ledger_posting (entry_id, account, amount, balance_after)
                    SELECT $1, account, amount, balance_after
                    FROM (VALUES ('wallet:' || $2, $4, $5::bigint), ('receivable:' || $3, -($4 - $6), NULL), ('fee_revenue', -$6, NULL)) AS p(account, amount, balance_after)
                    WHERE amount <> 0
                    """,
                    entryId, payerId, merchantId, amountWon, balanceAfterWon, commissionWon),
                Command(
                    """
                    INSERT INTO payment (payment_id, payer_id, merchant_id, amount, commission_bps, commission, order_id, idempotency_key, created_at)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                    """,
                    paymentId, payerId, merchantId, amountWon, rateBps, commissionWon, (object?)orderId ?? DBNull.Value, key, at),
            },
        };
        await writes.ExecuteNonQueryAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return Created(paymentId, payerId, merchantId, amountWon, commissionWon, orderId, balanceAfterWon);
    }

    private static ProblemHttpResult? Refusal(string payerId, string merchantId, Dictionary<string, Party> parties)
    {
        if (payerId == merchantId)
        {
            return Problem(StatusCodes.Status422UnprocessableEntity, "paying-self", "A member cannot pay itself.");
        }

        if (!parties.TryGetValue(payerId, out var payer) || payer.Status != ActiveStatus)
        {
            return Problem(StatusCodes.Status403Forbidden, "member-suspended", $"Member {payerId} is not active.");
        }

        return parties.TryGetValue(merchantId, out var merchant) switch
        {
            false => Problem(StatusCodes.Status422UnprocessableEntity, "unknown-merchant", $"No member has id {merchantId}."),
            _ when merchant!.Type != MerchantType => Problem(StatusCodes.Status422UnprocessableEntity, "not-a-merchant", $"Member {merchantId} is a customer."),
            _ when merchant.Status != ActiveStatus => Problem(StatusCodes.Status422UnprocessableEntity, "merchant-suspended", $"Merchant {merchantId} cannot take payments now."),
            _ => null,
        };
    }

    private static Created<PaymentResponse> Created(string paymentId, string payerId, string merchantId, long amountWon, long commissionWon, string? orderId, long balanceWon) =>
        TypedResults.Created($"/v1/payments/{paymentId}", new PaymentResponse(paymentId, payerId, merchantId, amountWon, commissionWon, amountWon - commissionWon, orderId, balanceWon, null));

    private static ProblemHttpResult Problem(int status, string type, string detail) =>
        TypedResults.Problem(detail, statusCode: status, title: type, type: ProblemTypeBase + type);

    private static NpgsqlBatchCommand Command(string sql, params object[] values)
    {
        var command = new NpgsqlBatchCommand(sql);
        foreach (var value in values)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value });
        }

        return command;
    }

    private sealed record Answered(string PaymentId, string MerchantId, long AmountWon, long CommissionWon, string? OrderId, long BalanceWon);

    private sealed record Party(int Type, int Status, long? CommissionBps);
}
