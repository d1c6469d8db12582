namespace MyPay.Silo.Grains;

/// <summary>A conditional write found a newer version in storage, and bounded retries did not get past it.</summary>
[Orleans.GenerateSerializer]
public sealed class StateConflictException(GrainId grain, long expectedVersion)
    : Exception($"Grain {grain} was written by another activation: expected version {expectedVersion}.")
{
    [Orleans.Id(0)]
    public GrainId Grain { get; } = grain;
}

/// <summary>An <see cref="OperationKey"/> was reused with a request different from the one it was first used with.</summary>
[Orleans.GenerateSerializer]
public sealed class OperationKeyReusedException(GrainId grain, string operationId)
    : Exception($"Operation key '{operationId}' was already used on {grain} with a different request.")
{
    [Orleans.Id(0)]
    public string OperationId { get; } = operationId;
}

/// <summary>A grain's mailbox is full: the caller should back off and retry.</summary>
[Orleans.GenerateSerializer]
public sealed class GrainOverloadedException(GrainId grain, int mailboxCapacity)
    : Exception($"Grain {grain} has {mailboxCapacity} queued messages, its limit.")
{
    [Orleans.Id(0)]
    public GrainId Grain { get; } = grain;
}

/// <summary>
/// Storage could not be reached or failed mid-write. Whether a write that failed this way committed is unknown. An
/// Orleans exception, so that Orleans' state bridge passes it to the grain (and the grain to its caller) as it is.
/// </summary>
[Orleans.GenerateSerializer]
public sealed class StorageUnavailableException(string message, Exception inner)
    : Orleans.Runtime.OrleansException(message, inner);

/// <summary>
/// The store's queue of writes waiting for a commit is full (the database has fallen behind): this write was refused
/// before anything was written, so the caller may retry later, with the same operation key.
/// </summary>
[Orleans.GenerateSerializer]
public sealed class StorageOverloadedException(GrainId grain, int queuedWritesMax)
    : Orleans.Runtime.OrleansException($"The write of grain {grain} was refused: {queuedWritesMax} writes are already waiting for the database, the store's limit.")
{
    [Orleans.Id(0)]
    public GrainId Grain { get; } = grain;
}

/// <summary>
/// A record a grain's write carried (<see cref="Storage.PendingRecords.Append"/>) broke a constraint of its table: nothing
/// of the write was stored, while the other writes of its group commit were. What the constraint means is its owner's to
/// say (a unique key on a request's id, say, that outlived the operation key that guarded it). An Orleans exception, so
/// that Orleans' state bridge passes it to the grain as it is.
/// </summary>
[Orleans.GenerateSerializer]
public sealed class RecordConflictException(GrainId grain, string table, string constraint)
    : Orleans.Runtime.OrleansException($"A record written with grain {grain} broke constraint '{constraint}' of table '{table}': nothing of the write was stored.")
{
    [Orleans.Id(0)]
    public GrainId Grain { get; } = grain;

    [Orleans.Id(1)]
    public string Table { get; } = table;

    /// <summary>The constraint's name, or empty when a trigger raised the violation without naming one.</summary>
    [Orleans.Id(2)]
    public string Constraint { get; } = constraint;
}
