using System.ComponentModel.DataAnnotations;

namespace MyPay.Silo.Batching;

/// <summary>How a <see cref="CommandBatch{TState}"/> gathers a grain's commands into writes.</summary>
public sealed class CommandBatchOptions
{
    public const string SectionName = "Silo:Batching";

    /// <summary>
    /// Most commands applied to memory and committed with one write. Default 256: a hot grain commits hundreds of
    /// commands per round trip, while one write's statement and its callers' wait stay bounded.
    /// </summary>
    [Range(1, 4096)]
    public int CommandsPerWriteMax { get; set; } = 256;

    /// <summary>
    /// Most commands waiting for a grain's writes, applied or not. Default 10,000; past it a command fails fast with
    /// <c>GrainOverloadedException</c> instead of growing memory and latency without bound.
    /// </summary>
    [Range(1, 1_000_000)]
    public int QueuedCommandsMax { get; set; } = 10_000;

    /// <summary>
    /// How many times in a row a write that lost to a newer version is re-validated on the reloaded state and written
    /// again. Default 5; contention beyond that fails the write's commands with <c>StateConflictException</c>.
    /// </summary>
    [Range(0, 100)]
    public int ConflictRetriesMax { get; set; } = 5;

    /// <summary>
    /// Operation keys (with their results) a grain remembers after their write committed, so an immediate retry is
    /// answered without a database read. Default 64; older keys are still found in storage.
    /// </summary>
    [Range(0, 10_000)]
    public int RecentOperationsMax { get; set; } = 64;
}
