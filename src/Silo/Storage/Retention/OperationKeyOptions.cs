using System.ComponentModel.DataAnnotations;

namespace MyPay.Silo.Storage.Retention;

/// <summary>How long operation keys (idempotency keys) are kept, and how they are pruned. Bound from <c>Silo:OperationKeys</c>.</summary>
public sealed class OperationKeyOptions
{
    public const string SectionName = "Silo:OperationKeys";

    /// <summary>
    /// How long a recorded operation key, and the first result it answers a repeat with, is kept. Default 30 days: far
    /// longer than any client retries a request, short enough that the table does not keep every request ever made. A
    /// repeat after it is not recognised as one. From 1 hour to 10 years.
    /// </summary>
    [Range(typeof(TimeSpan), "01:00:00", "3650.00:00:00")]
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(30);

    /// <summary>How often the cluster prunes keys past the retention (one Orleans reminder for the cluster). Default 1 hour; from 1 minute to 1 day.</summary>
    [Range(typeof(TimeSpan), "00:01:00", "1.00:00:00")]
    public TimeSpan PruneInterval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Keys deleted by one statement (one short transaction). Default 1,000: a few milliseconds of the database's time.</summary>
    [Range(1, 100_000)]
    public int PruneBatchSize { get; set; } = 1_000;

    /// <summary>
    /// Statements one prune runs at most, so a tick does bounded work (100,000 keys by default) and a backlog is worked
    /// off over the next ticks. Default 100.
    /// </summary>
    [Range(1, 10_000)]
    public int PruneBatchesMax { get; set; } = 100;
}
