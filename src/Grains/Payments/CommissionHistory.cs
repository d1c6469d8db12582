using MyPay.Grains.Events;
using MyPay.Silo.Events;
using MyPay.Silo.Storage;
using Npgsql;
using NpgsqlTypes;

namespace MyPay.Grains.Payments;

/// <summary>
/// One change of a commission rate, appended by the grain that holds the rate to the write that changes it, so it is
/// stored exactly when the change is. <see cref="MerchantId"/> is null for the default rate. For a merchant, a null
/// <see cref="OldBps"/> means it was on the default, a null <see cref="NewBps"/> that it went back to it; the default's
/// rates are always numbers.
/// </summary>
public sealed record CommissionChange(string? MerchantId, long? OldBps, long? NewBps, string ChangedBy, DateTimeOffset ChangedAt)
{
    /// <summary>Longest <see cref="ChangedBy"/>: a token's subject, an operator's name or a member id.</summary>
    public const int ChangedByLengthMax = 200;

    /// <summary>
    /// Appends the change to the write of the grain that holds the rate: its history row, and its event on that grain's
    /// stream (<paramref name="streamKey"/>), numbered there.
    /// </summary>
    public void AppendTo(IPublishingState state, string streamKey)
    {
        state.Records.Append(this);
        state.PublishNext(streamKey, DomainEvents.CommissionChanged, this, ChangedAt);
    }

    /// <summary>Throws when a rate or who changes it is out of bounds: callers validate first, so this is an invariant, as the table's checks are.</summary>
    public static void CheckArguments(long? rateBps, string changedBy)
    {
        if (rateBps is < 0 or > Commission.BasisPointsPerWhole)
        {
            throw new ArgumentOutOfRangeException(nameof(rateBps), rateBps, "A commission rate is 0 to 10,000 basis points.");
        }

        if (string.IsNullOrWhiteSpace(changedBy) || changedBy.Length > ChangedByLengthMax)
        {
            throw new ArgumentException($"Who changes a commission rate is named in 1 to {ChangedByLengthMax} characters; got {changedBy?.Length ?? 0}.", nameof(changedBy));
        }
    }
}

/// <summary>Stores <see cref="CommissionChange"/>s with the grain writes that make them, in one multi-row statement per batch.</summary>
public sealed class CommissionChangeWriter : RecordWriter<CommissionChange>
{
    protected override void AddCommands(NpgsqlBatch batch, IReadOnlyList<CommissionChange> records)
    {
        // WITH ORDINALITY keeps a batch's rows in the order they were appended, so change_id follows the order of one
        // grain's changes even when several share a write.
        var command = new NpgsqlBatchCommand(
            """
            INSERT INTO commission_change (merchant_id, old_bps, new_bps, changed_by, changed_at)
            SELECT merchant_id, old_bps, new_bps, changed_by, changed_at
            FROM unnest(@merchant_ids::text[], @old_bps::bigint[], @new_bps::bigint[], @changed_bys::text[], @changed_ats::timestamptz[])
                 WITH ORDINALITY AS change (merchant_id, old_bps, new_bps, changed_by, changed_at, position)
            ORDER BY position
            """);
        command.Parameters.Add(new NpgsqlParameter<string?[]>("merchant_ids", [.. records.Select(change => change.MerchantId)]));
        command.Parameters.Add(new NpgsqlParameter<long?[]>("old_bps", [.. records.Select(change => change.OldBps)]));
        command.Parameters.Add(new NpgsqlParameter<long?[]>("new_bps", [.. records.Select(change => change.NewBps)]));
        command.Parameters.Add(new NpgsqlParameter<string[]>("changed_bys", [.. records.Select(change => change.ChangedBy)]));
        command.Parameters.Add(new NpgsqlParameter<DateTime[]>("changed_ats", [.. records.Select(change => change.ChangedAt.UtcDateTime)]) { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz });
        batch.BatchCommands.Add(command);
    }
}
