using MyPay.Silo.Grains;

namespace MyPay.Silo.Storage;

/// <summary>
/// Grain storage in process memory, for fast grain tests. Keeps the same contract as PostgreSQL
/// (conditional writes, unique operation keys, atomic writes), and nothing survives the process.
/// Payloads are copied in and out, so a grain never shares an object with storage.
/// </summary>
public sealed class MemoryGrainStorage : IGrainStorage
{
    private readonly Lock gate = new();
    private readonly Dictionary<GrainId, StoredState> states = [];
    private readonly Dictionary<(GrainId Grain, string OperationId), StoredOperation> operations = [];
    private readonly List<object> records = [];

    /// <summary>Every record written with a committed state, in commit order: what a record writer would have stored.</summary>
    public IReadOnlyList<object> Records
    {
        get
        {
            lock (gate)
            {
                return [.. records];
            }
        }
    }

    public Task<StoredState?> ReadAsync(GrainId grain, CancellationToken cancellationToken)
    {
        lock (gate)
        {
            var found = states.GetValueOrDefault(grain);
            return Task.FromResult(found is null ? null : found with { Payload = [.. found.Payload] });
        }
    }

    public Task<StoredOperation?> ReadOperationAsync(GrainId grain, string operationId, CancellationToken cancellationToken)
    {
        lock (gate)
        {
            return Task.FromResult(operations.GetValueOrDefault((grain, operationId)));
        }
    }

    public Task<WriteOutcome> WriteAsync(StateWrite write, CancellationToken cancellationToken)
    {
        if (write.Malformation() is { } malformation)
        {
            return Task.FromException<WriteOutcome>(malformation);
        }

        lock (gate)
        {
            var storedVersion = states.GetValueOrDefault(write.Grain)?.Version ?? 0;
            if (write.Operations.Any(operation => operations.ContainsKey((write.Grain, operation.Id))))
            {
                return Task.FromResult(WriteOutcome.Duplicate);
            }

            if (storedVersion != write.ExpectedVersion)
            {
                return Task.FromResult(WriteOutcome.Conflict);
            }

            var version = storedVersion + 1;
            states[write.Grain] = new StoredState(version, [.. write.Payload]);
            foreach (var operation in write.Operations)
            {
                operations.Add((write.Grain, operation.Id), new StoredOperation(operation.RequestHash, operation.Result));
            }

            records.AddRange(write.Records);

            return Task.FromResult(WriteOutcome.CommittedAt(version));
        }
    }
}
