using Orleans;
using Orleans.Runtime;

namespace MyPay.Silo.Storage;

/// <summary>
/// A write carried an operation key that was recorded before for the same grain state, so it wrote nothing.
/// Not a failure of storage: the caller answers from the recorded operation
/// (<see cref="GroupCommitGrainStorage.ReadOperationAsync"/>) instead of applying the operation again.
/// </summary>
[GenerateSerializer]
public sealed class DuplicateOperationException(string stateName, string grainKey, IReadOnlyList<string> operationIds)
    : OrleansException($"State '{stateName}' of grain '{grainKey}' has already recorded one of the operation keys {string.Join(", ", operationIds)}: nothing was written.")
{
    /// <summary>The operation keys the refused write carried; at least one of them is recorded.</summary>
    [Id(0)]
    public IReadOnlyList<string> OperationIds { get; } = operationIds;
}
