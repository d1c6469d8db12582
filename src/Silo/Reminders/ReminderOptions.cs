using System.ComponentModel.DataAnnotations;

namespace MyPay.Silo.Reminders;

/// <summary>How a node fires durable reminders. Bound from <c>Silo:Reminders</c>.</summary>
public sealed class ReminderOptions
{
    public const string SectionName = "Silo:Reminders";

    /// <summary>How often due reminders are looked for. Default 1 s: a reminder fires at most this late when nodes are idle.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:10:00")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How long a claimed tick belongs to the node that claimed it. Default 1 minute: longer than any handler
    /// should run; if the node dies, another fires the tick again after this.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "01:00:00")]
    public TimeSpan Lease { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How long a tick whose handler failed waits before it fires again. Default 10 s.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "01:00:00")]
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Most ticks claimed per poll. Default 100; the rest wait for the next poll (or another node).</summary>
    [Range(1, 10_000)]
    public int ClaimBatchMax { get; set; } = 100;
}
