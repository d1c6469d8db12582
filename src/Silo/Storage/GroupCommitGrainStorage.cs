using System.Collections.Concurrent;
using System.Globalization;

using Orleans;
using Orleans.Runtime;
using Orleans.Storage;
using StorageId = MyPay.Silo.Grains.GrainId;

namespace MyPay.Silo.Storage;

/// <summary>
/// Orleans grain storage on MyPay's group commit: each <c>WriteStateAsync</c> joins the writes of every other
/// grain queued at that moment, and they commit in one PostgreSQL transaction, each checked against the version
/// it read, so a stale write fails alone (<see cref="InconsistentStateException"/>) without failing its
/// batch-mates. A state implementing <see cref="IRecordingState"/> also hands its pending records and operation
/// keys to the write, stored in the same transaction and only if the state commits. The task completes after
/// the commit.
/// <para>
/// A row is keyed by the state's name and the grain's key: give each grain type's state a name of its own
/// (checked here, on first use in this process). The ETag is the row's version. The state is serialized and its
/// records taken when Orleans calls the provider; a grain that goes on changing its state while a write is in
/// flight (a reentrant one) hands the write a copy of its own.
/// </para>
/// </summary>
public sealed class GroupCommitGrainStorage(string name, IGrainStorage store) : Orleans.Storage.IGrainStorage
{
    private readonly ConcurrentDictionary<string, GrainType> grainTypesByStateName = new(StringComparer.Ordinal);

    /// <summary>The name the provider is registered under.</summary>
    public string Name { get; } = name;

    public async Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var stored = await store.ReadAsync(ToStorageId(stateName, grainId), CancellationToken.None);
        if (stored is null)
        {
            grainState.State = Activator.CreateInstance<T>();
            grainState.ETag = null;
            grainState.RecordExists = false;
            return;
        }

        grainState.State = StateSerializer.Deserialize<T>(stored.Payload);
        grainState.ETag = FormatVersion(stored.Version);
        grainState.RecordExists = true;
    }

    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        WriteAsync(
            stateName,
            grainId,
            grainState,
            grainState.State ?? throw new InvalidOperationException($"State '{stateName}' of grain '{grainId}' is null: a grain writes a state object, never null."));

    /// <summary>Orleans' clear, as a write of a new state: the row and its version stay, so a stale writer still loses.</summary>
    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        WriteAsync(stateName, grainId, grainState, Activator.CreateInstance<T>());

    /// <summary>
    /// The operation recorded under <paramref name="operationId"/> with a state of this grain, or null: how a
    /// grain answers a repeated operation key with the first result.
    /// </summary>
    public Task<StoredOperation?> ReadOperationAsync(string stateName, GrainId grainId, string operationId) =>
        store.ReadOperationAsync(ToStorageId(stateName, grainId), operationId, CancellationToken.None);

    private Task WriteAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState, T state)
    {
        var id = ToStorageId(stateName, grainId);
        var payload = StateSerializer.Serialize(state);
        var (records, operations) = state is IRecordingState recording ? recording.Records.Take() : ([], []);
        var write = new StateWrite(id, ParseVersion(grainState.ETag), payload, operations) { Records = records };
        return CompleteAsync(store.WriteAsync(write, CancellationToken.None));

        async Task CompleteAsync(Task<WriteOutcome> writing)
        {
            var outcome = await writing;
            switch (outcome.Status)
            {
                case WriteStatus.Committed:
                    grainState.State = state;
                    grainState.ETag = FormatVersion(outcome.Version);
                    grainState.RecordExists = true;
                    break;
                case WriteStatus.VersionConflict:
                    throw new InconsistentStateException(
                        $"State '{stateName}' of grain '{id.Key}' was written by another activation: this one read version {write.ExpectedVersion}.",
                        storedEtag: "unknown",
                        currentEtag: grainState.ETag ?? "none");
                case WriteStatus.DuplicateOperation:
                    throw new DuplicateOperationException(stateName, id.Key, [.. write.Operations.Select(operation => operation.Id)]);
                default:
                    throw new InvalidOperationException($"Unknown write outcome {outcome.Status} for state '{stateName}' of grain '{id.Key}'.");
            }
        }
    }

    private StorageId ToStorageId(string stateName, GrainId grainId)
    {
        var owner = grainTypesByStateName.GetOrAdd(stateName, grainId.Type);
        if (!owner.Equals(grainId.Type))
        {
            throw new InvalidOperationException(
                $"State name '{stateName}' is used by grain types '{owner}' and '{grainId.Type}' in storage '{Name}': their rows would collide. Give each its own name.");
        }

        return new StorageId(stateName, grainId.Key.ToString()!);
    }

    private static string FormatVersion(long version) => version.ToString(CultureInfo.InvariantCulture);

    private static long ParseVersion(string? etag) =>
        etag is null ? 0 : long.Parse(etag, NumberStyles.None, CultureInfo.InvariantCulture);
}
