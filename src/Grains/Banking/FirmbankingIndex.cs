using MyPay.Grains.Members;
using MyPay.Silo.Storage;
using Npgsql;
using NpgsqlTypes;

namespace MyPay.Grains.Banking;

/// <summary>
/// A firmbanking request's index row: appended to each of the grain's writes, so it exists exactly when the request
/// does and tells, as the grain's state does, whether the bank's answer is still awaited. A command its caller writes
/// (<see cref="BankCommandDriver.ExecuteRecordedAsync"/>) has no grain state: its row is its whole record but the history,
/// so it carries the accounts, the bank's fee and a failure's reason too.
/// </summary>
public sealed record FirmbankingIndexRow(
    string RequestId,
    string MemberId,
    string Purpose,
    long AmountWon,
    FirmbankingStatus Status,
    DateTimeOffset CreatedAt,
    DateTimeOffset? CompletedAt,
    BankAccountNumber? From = null,
    BankAccountNumber? To = null,
    long FeeWon = 0,
    string? FailureReason = null)
{
    public static FirmbankingIndexRow Of(FirmbankingRecord record) => new(
        record.RequestId, record.Command.MemberId, record.Command.Purpose, record.Command.AmountWon, record.Status, record.RequestedAt, record.CompletedAt,
        record.Command.From, record.Command.To, record.FeeWon, record.FailureReason);

    /// <summary>The row of a command its caller writes as may-be-sent, before it drives it (<see cref="BankCommandDriver.ExecuteRecordedAsync"/>).</summary>
    public static FirmbankingIndexRow Sent(string requestId, FirmbankingCommand command, DateTimeOffset at) =>
        Of(FirmbankingRecord.Sent(requestId, command, at));

    /// <summary>
    /// The record the row keeps: its history the steps a command its caller writes goes through (requested and sent when
    /// it was created, then its answer when it completed). Null for a row written before rows kept the accounts.
    /// </summary>
    public FirmbankingRecord? ToRecord()
    {
        if (From is null || To is null)
        {
            return null;
        }

        var sent = FirmbankingRecord.Sent(RequestId, new FirmbankingCommand(MemberId, Purpose, From, To, AmountWon), CreatedAt);
        var stored = sent with { Status = Status };
        return stored.IsFinal && CompletedAt is { } completedAt ? sent.Answered(Status, FailureReason, FeeWon, completedAt) : stored;
    }

    public static string StatusName(FirmbankingStatus status) => status.ToString().ToLowerInvariant();
}

/// <summary>Stores <see cref="FirmbankingIndexRow"/>s with the firmbanking writes that make them; a final row never changes again.</summary>
public sealed class FirmbankingIndexWriter : RecordWriter<FirmbankingIndexRow>
{
    protected override void AddCommands(NpgsqlBatch batch, IReadOnlyList<FirmbankingIndexRow> records)
    {
        var command = new NpgsqlBatchCommand(
            """
            INSERT INTO firmbanking_request AS f (request_id, member_id, created_at, purpose, amount, status, completed_at,
                                                  from_bank_code, from_account_number, to_bank_code, to_account_number, fee, failure_reason)
            SELECT * FROM unnest(@ids::text[], @members::text[], @created_ats::timestamptz[], @purposes::text[], @amounts::bigint[],
                                 @statuses::text[], @completed_ats::timestamptz[], @from_banks::text[], @from_accounts::text[],
                                 @to_banks::text[], @to_accounts::text[], @fees::bigint[], @failure_reasons::text[])
            ON CONFLICT (request_id) DO UPDATE
            SET status = excluded.status, completed_at = excluded.completed_at, fee = excluded.fee, failure_reason = excluded.failure_reason,
                from_bank_code = coalesce(f.from_bank_code, excluded.from_bank_code),
                from_account_number = coalesce(f.from_account_number, excluded.from_account_number),
                to_bank_code = coalesce(f.to_bank_code, excluded.to_bank_code),
                to_account_number = coalesce(f.to_account_number, excluded.to_account_number)
            WHERE f.status IS NULL OR f.status NOT IN ('succeeded', 'failed')
            """);
        command.Parameters.Add(new NpgsqlParameter<string[]>("ids", [.. records.Select(row => row.RequestId)]));
        command.Parameters.Add(new NpgsqlParameter<string[]>("members", [.. records.Select(row => row.MemberId)]));
        command.Parameters.Add(new NpgsqlParameter<DateTime[]>("created_ats", [.. records.Select(row => row.CreatedAt.UtcDateTime)]) { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz });
        command.Parameters.Add(new NpgsqlParameter<string[]>("purposes", [.. records.Select(row => row.Purpose)]));
        command.Parameters.Add(new NpgsqlParameter<long[]>("amounts", [.. records.Select(row => row.AmountWon)]));
        command.Parameters.Add(new NpgsqlParameter<string[]>("statuses", [.. records.Select(row => FirmbankingIndexRow.StatusName(row.Status))]));
        command.Parameters.Add(new NpgsqlParameter<DateTime?[]>("completed_ats", [.. records.Select(row => row.CompletedAt?.UtcDateTime)]) { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz });
        command.Parameters.Add(new NpgsqlParameter<string?[]>("from_banks", [.. records.Select(row => row.From?.BankCode)]));
        command.Parameters.Add(new NpgsqlParameter<string?[]>("from_accounts", [.. records.Select(row => row.From?.AccountNumber)]));
        command.Parameters.Add(new NpgsqlParameter<string?[]>("to_banks", [.. records.Select(row => row.To?.BankCode)]));
        command.Parameters.Add(new NpgsqlParameter<string?[]>("to_accounts", [.. records.Select(row => row.To?.AccountNumber)]));
        command.Parameters.Add(new NpgsqlParameter<long[]>("fees", [.. records.Select(row => row.FeeWon)]));
        command.Parameters.Add(new NpgsqlParameter<string?[]>("failure_reasons", [.. records.Select(row => row.FailureReason)]));
        batch.BatchCommands.Add(command);
    }
}

/// <summary>Bank commands awaiting the bank's answer, those failed lately, and the latest failures.</summary>
public sealed record BankCommandSummary(long InFlight, long FailedLately, IReadOnlyList<FirmbankingIndexRow> LatestFailures);

public sealed class FirmbankingQueries(NpgsqlDataSource dataSource)
{
    public const int ListMax = 100;

    /// <summary>The request's row; null when there is none.</summary>
    public async Task<FirmbankingIndexRow?> FindAsync(string requestId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"SELECT {RowColumns} FROM firmbanking_request WHERE request_id = @request_id");
        command.Parameters.Add(new NpgsqlParameter<string>("request_id", requestId));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? ReadRow(reader) : null;
    }

    /// <summary>The member's latest firmbanking request ids, newest first.</summary>
    public Task<IReadOnlyList<string>> LatestForMemberAsync(string memberId, CancellationToken cancellationToken) => dataSource.LatestIdsAsync(
        "SELECT request_id FROM firmbanking_request WHERE member_id = @member ORDER BY created_at DESC, request_id LIMIT @limit",
        memberId,
        ListMax,
        cancellationToken);

    /// <summary>
    /// The condition on <c>firmbanking_request</c> of bank commands sent and not yet answered (or whose answer was lost):
    /// those the bank still owes an answer. Index <c>firmbanking_request_unresolved</c> is on exactly these rows.
    /// </summary>
    public const string AwaitingTheBank = "status IN ('sent', 'unknown')";

    /// <summary>Bank commands sent and not yet answered (or whose answer was lost): those the bank still owes an answer.</summary>
    public async Task<long> InFlightCountAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"SELECT count(*) FROM firmbanking_request WHERE {AwaitingTheBank}");
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>
    /// The bank commands for the operators' money view: how many await the bank's answer, how many failed since
    /// <paramref name="since"/>, and the latest <paramref name="limit"/> failures, newest first.
    /// </summary>
    public async Task<BankCommandSummary> SummaryAsync(DateTimeOffset since, int limit, CancellationToken cancellationToken)
    {
        await using var batch = dataSource.CreateBatch();
        var counts = new NpgsqlBatchCommand(
            $"""
            SELECT (SELECT count(*) FROM firmbanking_request WHERE {AwaitingTheBank}),
                   (SELECT count(*) FROM firmbanking_request WHERE status = 'failed' AND completed_at >= @since)
            """);
        counts.Parameters.Add(new NpgsqlParameter<DateTime>("since", since.UtcDateTime));
        var latest = new NpgsqlBatchCommand($"SELECT {RowColumns} FROM firmbanking_request WHERE status = 'failed' ORDER BY completed_at DESC LIMIT @limit");
        latest.Parameters.Add(new NpgsqlParameter<int>("limit", limit));
        batch.BatchCommands.Add(counts);
        batch.BatchCommands.Add(latest);

        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        var (inFlight, failedLately) = (reader.GetInt64(0), reader.GetInt64(1));
        await reader.NextResultAsync(cancellationToken);
        var failures = new List<FirmbankingIndexRow>();
        while (await reader.ReadAsync(cancellationToken))
        {
            failures.Add(ReadRow(reader));
        }

        return new BankCommandSummary(inFlight, failedLately, failures);
    }

    /// <summary>A row's columns, in <see cref="FirmbankingIndexRow"/>'s order (<see cref="ReadRow"/>).</summary>
    private const string RowColumns =
        """
        request_id, member_id, purpose, amount, status, created_at, completed_at,
        from_bank_code, from_account_number, to_bank_code, to_account_number, fee, failure_reason
        """;

    private static FirmbankingIndexRow ReadRow(NpgsqlDataReader reader) => new(
        reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetInt64(3),
        Enum.Parse<FirmbankingStatus>(reader.GetString(4), ignoreCase: true),
        reader.GetFieldValue<DateTimeOffset>(5), reader.IsDBNull(6) ? null : reader.GetFieldValue<DateTimeOffset>(6),
        Account(reader, 7), Account(reader, 9), reader.GetInt64(11), reader.IsDBNull(12) ? null : reader.GetString(12));

    private static BankAccountNumber? Account(NpgsqlDataReader reader, int bankCodeColumn) =>
        reader.IsDBNull(bankCodeColumn) ? null : new BankAccountNumber(reader.GetString(bankCodeColumn), reader.GetString(bankCodeColumn + 1));
}
