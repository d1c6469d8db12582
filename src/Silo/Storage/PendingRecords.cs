namespace MyPay.Silo.Storage;

/// <summary>
/// Grain state whose writes carry more than the state: records for the registered <see cref="IRecordWriter"/>s
/// (journal entries, index rows) and operation keys, written by <see cref="GroupCommitGrainStorage"/> in the
/// transaction that commits the state, and only if it commits.
/// <para>
/// The pending records live on the state object, beside the state but never stored as part of it (mark the
/// property <c>[JsonIgnore]</c>, and give it no Orleans <c>[Id]</c>). A grain that goes back to its committed state
/// after a failed write replaces the state object, and the records appended to the failed attempt go with it.
/// </para>
/// </summary>
public interface IRecordingState
{
    PendingRecords Records { get; }
}

/// <summary>What a grain's next write carries besides its state. Taken, whole, when the write starts.</summary>
public sealed class PendingRecords
{
    // Created with their first item: most states of a busy silo sit idle with nothing pending.
    private List<object>? records;
    private List<OperationRecord>? operations;

    /// <summary>Whether nothing is pending.</summary>
    public bool IsEmpty => records is not { Count: > 0 } && operations is not { Count: > 0 };

    /// <summary>Adds a record, stored by the record writer registered for its type.</summary>
    public void Append(object record)
    {
        ArgumentNullException.ThrowIfNull(record);
        (records ??= []).Add(record);
    }

    /// <summary>
    /// Records an operation key under a unique constraint in the same transaction as the state. Should the key
    /// be recorded already, the write changes nothing and fails with <see cref="DuplicateOperationException"/>.
    /// </summary>
    public void Record(OperationRecord operation)
    {
        ArgumentNullException.ThrowIfNull(operation);
        if (operation.Id.Length is 0 or > Grains.OperationKey.IdLengthMax)
        {
            throw new ArgumentException($"An operation key must be 1 to {Grains.OperationKey.IdLengthMax} characters; got {operation.Id.Length}.", nameof(operation));
        }

        (operations ??= []).Add(operation);
    }

    /// <summary>Hands everything pending to a write and starts afresh: later appends belong to the next write.</summary>
    internal (IReadOnlyList<object> Records, IReadOnlyList<OperationRecord> Operations) Take()
    {
        var taken = ((IReadOnlyList<object>?)records ?? [], (IReadOnlyList<OperationRecord>?)operations ?? []);
        records = null;
        operations = null;
        return taken;
    }
}
