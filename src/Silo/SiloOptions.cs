using System.ComponentModel.DataAnnotations;

namespace MyPay.Silo;

/// <summary>How the silo activates, schedules and collects grains. Bound from the <c>Silo</c> configuration section.</summary>
public sealed class SiloOptions
{
    public const string SectionName = "Silo";

    /// <summary>
    /// How long an activation may sit idle before it is collected. Default 15 minutes, as in Orleans:
    /// long enough that a member's session stays warm, short enough that a day's visitors do not all stay in memory.
    /// </summary>
    public TimeSpan CollectionAge { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>How often idle activations are looked for. Default 1 minute; an activation lives at most this much past its age.</summary>
    public TimeSpan CollectionInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Most commands and calls queued for one activation. Default 10,000; past it they fail fast with
    /// <c>GrainOverloadedException</c> instead of growing memory and latency without bound. Reads are not
    /// counted and never refused: they change nothing, cost no storage, and a read turn answers a whole run
    /// of them, so a grain everyone reads (a merchant's profile during a sale) is never "overloaded" by them.
    /// </summary>
    [Range(1, 1_000_000)]
    public int MailboxCapacity { get; set; } = 10_000;

    /// <summary>
    /// Most queued commands drained into one turn and committed with one write. Default 256: a hot
    /// grain commits hundreds of commands per round trip, while one turn's latency stays bounded.
    /// </summary>
    [Range(1, 4096)]
    public int CommandsPerTurnMax { get; set; } = 256;

    /// <summary>
    /// How many times a turn's commands are re-validated and re-written after losing to a newer
    /// version. Default 5; contention beyond that is reported to the caller as a conflict.
    /// </summary>
    [Range(0, 100)]
    public int ConflictRetriesMax { get; set; } = 5;

    /// <summary>
    /// Operation keys (with their results) each activation remembers, so an immediate retry is answered
    /// without a database read. Default 64; older keys are still found in storage.
    /// </summary>
    [Range(0, 10_000)]
    public int RecentOperationsPerActivation { get; set; } = 64;
}
