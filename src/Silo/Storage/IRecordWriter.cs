using Npgsql;

namespace MyPay.Silo.Storage;

/// <summary>
/// Stores one type of record appended to grain writes (<see cref="PendingRecords.Append"/>),
/// in the transaction that commits those grains' states, and only for writes that committed. This is how a
/// component keeps rows of its own (a ledger, an outbox) exactly as consistent with grain state as the state
/// is with itself, while the silo knows nothing of what they mean.
/// <para>
/// A writer adds its statements to the batch that ends with the transaction's COMMIT, so every writer's
/// records and the commit travel in one round trip. A writer's statements are invariants' last line of
/// defence: a constraint they violate rolls the batch back, and the store commits it again without the write whose
/// records broke it, which fails alone with <see cref="Grains.RecordConflictException"/>.
/// Writers should be multi-row statements (unnest), so hundreds of records cost one statement.
/// </para>
/// </summary>
public interface IRecordWriter
{
    Type RecordType { get; }

    void AddCommands(NpgsqlBatch batch, IReadOnlyList<object> records);
}

/// <summary>A typed <see cref="IRecordWriter"/>.</summary>
public abstract class RecordWriter<TRecord> : IRecordWriter
{
    public Type RecordType => typeof(TRecord);

    public void AddCommands(NpgsqlBatch batch, IReadOnlyList<object> records) => AddCommands(batch, [.. records.Cast<TRecord>()]);

    protected abstract void AddCommands(NpgsqlBatch batch, IReadOnlyList<TRecord> records);
}
