using MyPay.Silo.Diagnostics;
using MyPay.Silo.Grains;
using MyPay.Silo.Storage;

namespace MyPay.Silo.Runtime;

/// <summary>
/// One activation's state and what it knows of storage: the version it read and the bytes last
/// committed, so a turn that failed halfway can be undone without a database read.
/// </summary>
internal sealed class PersistentState<TState>(GrainId grain, IGrainStorage storage) : IPersistentState<TState>, IStateCell
    where TState : class, new()
{
    private byte[] committedPayload = StateSerializer.Serialize(new TState());
    private List<object> pendingRecords = [];

    public TState State { get; set; } = new();

    public long Version { get; private set; }

    public bool RecordExists => Version > 0;

    /// <summary>Set when storage may hold something newer than memory; the next turn reloads first.</summary>
    public bool IsStale { get; private set; } = true;

    public async Task LoadAsync(CancellationToken cancellationToken)
    {
        var stored = await storage.ReadAsync(grain, cancellationToken);
        committedPayload = stored?.Payload ?? StateSerializer.Serialize(new TState());
        Version = stored?.Version ?? 0;
        State = StateSerializer.Deserialize<TState>(committedPayload);
        pendingRecords = [];
        IsStale = false;
    }

    public void RestoreCommitted()
    {
        State = StateSerializer.Deserialize<TState>(committedPayload);
        pendingRecords = [];
    }

    public void Append(object record)
    {
        ArgumentNullException.ThrowIfNull(record);
        pendingRecords.Add(record);
    }

    public async Task<WriteOutcome> CommitAsync(IReadOnlyList<OperationRecord> operations, CancellationToken cancellationToken)
    {
        var payload = StateSerializer.Serialize(State);
        if (operations.Count == 0 && pendingRecords.Count == 0 && payload.AsSpan().SequenceEqual(committedPayload))
        {
            return WriteOutcome.CommittedAt(Version);
        }

        // Whatever the outcome, these records are done with: written now, or appended again when the commands are re-applied.
        var records = pendingRecords;
        pendingRecords = [];
        WriteOutcome outcome;
        try
        {
            outcome = await storage.WriteAsync(new StateWrite(grain, Version, payload, operations) { Records = records }, cancellationToken);
        }
        catch
        {
            // The write may or may not have committed: only storage knows now.
            IsStale = true;
            throw;
        }

        if (outcome.Status == WriteStatus.Committed)
        {
            Version = outcome.Version;
            committedPayload = payload;
        }
        else
        {
            IsStale = true;
            if (outcome.Status == WriteStatus.VersionConflict)
            {
                SiloMetrics.WriteConflicts.Add(1);
            }
        }

        return outcome;
    }

    public async Task WriteStateAsync()
    {
        var expectedVersion = Version;
        var outcome = await CommitAsync([], CancellationToken.None);
        if (outcome.Status != WriteStatus.Committed)
        {
            throw new StateConflictException(grain, expectedVersion);
        }
    }
}

/// <summary>The runtime's view of an activation's state, whatever its type.</summary>
internal interface IStateCell
{
    bool IsStale { get; }

    long Version { get; }

    Task LoadAsync(CancellationToken cancellationToken);

    void RestoreCommitted();

    Task<WriteOutcome> CommitAsync(IReadOnlyList<OperationRecord> operations, CancellationToken cancellationToken);
}
