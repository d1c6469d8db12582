using MyPay.Silo.Grains;

namespace MyPay.Silo.Storage;

/// <summary>
/// Where grain state lives. Every write is conditional on the version read and records the
/// write's operation keys under a unique constraint, in one atomic step.
/// Two providers keep this contract: <see cref="MemoryGrainStorage"/> and
/// <see cref="Postgres.PostgresGrainStorage"/>; one suite of contract tests runs against both.
/// </summary>
public interface IGrainStorage
{
    /// <summary>The stored state, or null when the grain has never been written.</summary>
    Task<StoredState?> ReadAsync(GrainId grain, CancellationToken cancellationToken);

    /// <summary>The operation recorded under <paramref name="operationId"/> for this grain, or null.</summary>
    Task<StoredOperation?> ReadOperationAsync(GrainId grain, string operationId, CancellationToken cancellationToken);

    /// <summary>
    /// Writes the state if the stored version still equals <see cref="StateWrite.ExpectedVersion"/> and
    /// none of its operation keys was recorded before; otherwise writes nothing and says which check failed.
    /// Returns only after the write is durable.
    /// </summary>
    Task<WriteOutcome> WriteAsync(StateWrite write, CancellationToken cancellationToken);
}

/// <summary>A stored state: its version (1 after the first write) and its serialized payload.</summary>
public sealed record StoredState(long Version, byte[] Payload);

/// <summary>An operation recorded with a state write: the request hash it was first used with and its serialized result.</summary>
public sealed record StoredOperation(string RequestHash, byte[] Result);

/// <summary>An operation key to record with a state write, with the command's serialized result.</summary>
public sealed record OperationRecord(string Id, string RequestHash, byte[] Result);

/// <summary>One conditional state write. Version 0 means "the grain has no row yet".</summary>
public sealed record StateWrite(GrainId Grain, long ExpectedVersion, byte[] Payload, IReadOnlyList<OperationRecord> Operations)
{
    /// <summary>Records to write in the same transaction, only if this write commits; see <see cref="IRecordWriter"/>.</summary>
    public IReadOnlyList<object> Records { get; init; } = [];

    /// <summary>
    /// Why a write must be refused before it changes anything, or null. One operation key twice could
    /// never be recorded, and in a group commit it would fail its batch-mates.
    /// </summary>
    public Exception? Malformation() =>
        Operations.Count > 1 && Operations.DistinctBy(operation => operation.Id).Count() != Operations.Count
            ? new ArgumentException($"A write to {Grain} carries an operation key more than once.", nameof(Operations))
            : null;
}

public enum WriteStatus
{
    /// <summary>The state and its operations are durable; <see cref="WriteOutcome.Version"/> is the new version.</summary>
    Committed,

    /// <summary>The stored version differs from the expected one: reload and re-validate.</summary>
    VersionConflict,

    /// <summary>One of the write's operation keys was recorded before: look it up instead of applying it again.</summary>
    DuplicateOperation,
}

public readonly record struct WriteOutcome(WriteStatus Status, long Version)
{
    public static WriteOutcome Conflict { get; } = new(WriteStatus.VersionConflict, 0);

    public static WriteOutcome Duplicate { get; } = new(WriteStatus.DuplicateOperation, 0);

    public static WriteOutcome CommittedAt(long version) => new(WriteStatus.Committed, version);
}
