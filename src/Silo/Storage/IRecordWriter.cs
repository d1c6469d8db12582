using Npgsql;

namespace MyPay.Silo.Storage;

/// <summary>
/// Stores one type of record appended to grain writes (<see cref="Grains.IPersistentState{TState}.Append"/>),
/// in the transaction that commits those grains' states, and only for writes that committed. This is how a
/// component keeps rows of its own (a ledger, an outbox) exactly as consistent with grain state as the state
/// is with itself, while the silo knows nothing of what they mean.
/// <para>
/// A writer's statements are invariants' last line of defence: a constraint they violate aborts the whole
/// batch, which then fails for every grain in it. Writers should be multi-row statements (unnest), so a
/// batch of hundreds of records costs one round trip per writer.
/// </para>
/// </summary>
public interface IRecordWriter
{
    Type RecordType { get; }

    Task WriteAsync(NpgsqlConnection connection, IReadOnlyList<object> records, CancellationToken cancellationToken);
}

/// <summary>A typed <see cref="IRecordWriter"/>.</summary>
public abstract class RecordWriter<TRecord> : IRecordWriter
{
    public Type RecordType => typeof(TRecord);

    public Task WriteAsync(NpgsqlConnection connection, IReadOnlyList<object> records, CancellationToken cancellationToken) =>
        WriteAsync(connection, [.. records.Cast<TRecord>()], cancellationToken);

    protected abstract Task WriteAsync(NpgsqlConnection connection, IReadOnlyList<TRecord> records, CancellationToken cancellationToken);
}
