using MyPay.Grains.Members;
using MyPay.Silo.Storage;
using Npgsql;
using NpgsqlTypes;

namespace MyPay.Grains.Banking;

/// <summary>A firmbanking request's index row: appended to the grain's first write, so it exists exactly when the request does.</summary>
public sealed record FirmbankingIndexRow(string RequestId, string MemberId, DateTimeOffset CreatedAt);

/// <summary>Stores <see cref="FirmbankingIndexRow"/>s with the firmbanking writes that create them.</summary>
public sealed class FirmbankingIndexWriter : RecordWriter<FirmbankingIndexRow>
{
    protected override void AddCommands(NpgsqlBatch batch, IReadOnlyList<FirmbankingIndexRow> records)
    {
        var command = new NpgsqlBatchCommand(
            """
            INSERT INTO firmbanking_request (request_id, member_id, created_at)
            SELECT * FROM unnest(@ids::text[], @members::text[], @created_ats::timestamptz[])
            ON CONFLICT (request_id) DO NOTHING
            """);
        command.Parameters.Add(new NpgsqlParameter<string[]>("ids", [.. records.Select(row => row.RequestId)]));
        command.Parameters.Add(new NpgsqlParameter<string[]>("members", [.. records.Select(row => row.MemberId)]));
        command.Parameters.Add(new NpgsqlParameter<DateTime[]>("created_ats", [.. records.Select(row => row.CreatedAt.UtcDateTime)]) { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz });
        batch.BatchCommands.Add(command);
    }
}

public sealed class FirmbankingQueries(NpgsqlDataSource dataSource)
{
    public const int ListMax = 100;

    /// <summary>The member's latest firmbanking request ids, newest first.</summary>
    public Task<IReadOnlyList<string>> LatestForMemberAsync(string memberId, CancellationToken cancellationToken) => dataSource.LatestIdsAsync(
        "SELECT request_id FROM firmbanking_request WHERE member_id = @member ORDER BY created_at DESC, request_id LIMIT @limit",
        memberId,
        ListMax,
        cancellationToken);
}
