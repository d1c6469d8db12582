using System.Diagnostics.Metrics;

namespace MyPay.Silo.Diagnostics;

/// <summary>
/// The silo's instruments, on the <see cref="System.Diagnostics.Metrics"/> meter <c>MyPay.Silo</c>.
/// One meter per process: several silos in one test process report into the same instruments. Orleans' own meters
/// (activations, calls, messaging) sit beside it.
/// </summary>
public static class SiloMetrics
{
    public const string MeterName = "MyPay.Silo";

    private static readonly Meter Meter = new(MeterName);

    /// <summary>Commands of one grain committed with one write (<see cref="Batching.CommandBatch{TState}"/>).</summary>
    public static readonly Histogram<int> CommandsPerWrite = Meter.CreateHistogram<int>(
        "mypay.silo.write.commands", "{command}", "Commands of one grain applied in memory and committed with one write.",
        advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = [1, 2, 4, 8, 16, 32, 64, 128, 256] });

    /// <summary>State writes gathered into one database transaction.</summary>
    public static readonly Histogram<int> CommitBatchSize = Meter.CreateHistogram<int>(
        "mypay.silo.commit.batch_size", "{write}", "Grain state writes per database transaction.",
        advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512] });

    /// <summary>Time one group-commit transaction took.</summary>
    public static readonly Histogram<double> CommitDuration = Meter.CreateHistogram<double>(
        "mypay.silo.commit.duration", "ms", "Duration of one group-commit transaction.",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 1000] });

    /// <summary>
    /// Time one grain write took from being queued for a committer to its transaction's commit: the wait for the
    /// transaction before it (one committer) plus its own, which is what a command waits for once applied.
    /// </summary>
    public static readonly Histogram<double> WriteDuration = Meter.CreateHistogram<double>(
        "mypay.silo.write.duration", "ms", "Duration of one grain write, from queued to committed.",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.5, 1, 2.5, 5, 10, 15, 20, 25, 50, 100, 250, 1000] });

    /// <summary>
    /// Group commits with records sent again the careful way, in two round trips, because a write of the batch was stale
    /// or repeated, so the one-round-trip attempt (records of every write) was refused.
    /// </summary>
    public static readonly Counter<long> CarefulCommits = Meter.CreateCounter<long>(
        "mypay.silo.commit.careful", "{transaction}", "Group commits with records sent again in two round trips, as a write of theirs was stale or repeated.");
}
