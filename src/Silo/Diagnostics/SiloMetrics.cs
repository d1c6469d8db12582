using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace MyPay.Silo.Diagnostics;

/// <summary>
/// The silo's instruments, on the <see cref="System.Diagnostics.Metrics"/> meter <c>MyPay.Silo</c>.
/// One meter per process: several silos in one test process report into the same instruments.
/// </summary>
public static class SiloMetrics
{
    public const string MeterName = "MyPay.Silo";

    private static readonly Meter Meter = new(MeterName);

    /// <summary>Grain calls, tagged with grain type, method and outcome (ok or the exception's name).</summary>
    public static readonly Counter<long> Calls = Meter.CreateCounter<long>("mypay.silo.calls", "{call}", "Grain calls completed.");

    /// <summary>Time from a call's arrival in the mailbox to its completion.</summary>
    public static readonly Histogram<double> CallDuration = Meter.CreateHistogram<double>(
        "mypay.silo.call.duration", "ms", "Grain call latency, queueing included.",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 1000] });

    /// <summary>Commands drained into one turn and committed with one version bump.</summary>
    public static readonly Histogram<int> CommandsPerTurn = Meter.CreateHistogram<int>(
        "mypay.silo.turn.commands", "{command}", "Commands applied in one turn and committed together.",
        advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = [1, 2, 4, 8, 16, 32, 64, 128, 256] });

    /// <summary>State writes gathered into one database transaction.</summary>
    public static readonly Histogram<int> CommitBatchSize = Meter.CreateHistogram<int>(
        "mypay.silo.commit.batch_size", "{write}", "Grain state writes per database transaction.",
        advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512] });

    /// <summary>Time one group-commit transaction took.</summary>
    public static readonly Histogram<double> CommitDuration = Meter.CreateHistogram<double>(
        "mypay.silo.commit.duration", "ms", "Duration of one group-commit transaction.",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 1000] });

    /// <summary>Conditional writes that found a newer version.</summary>
    public static readonly Counter<long> WriteConflicts = Meter.CreateCounter<long>("mypay.silo.write.conflicts", "{write}", "Writes that lost to a newer version.");

    /// <summary>Reminder ticks fired, tagged with grain type and outcome (ok or failed).</summary>
    public static readonly Counter<long> Reminders = Meter.CreateCounter<long>("mypay.silo.reminders.fired", "{tick}", "Reminder ticks delivered to grains.");

    private static readonly List<Func<IEnumerable<Measurement<long>>>> ActivationSources = [];

    static SiloMetrics()
    {
        Meter.CreateObservableGauge("mypay.silo.activations", ObserveActivations, "{activation}", "Live grain activations per grain type.");
    }

    internal static void AddActivationSource(Func<IEnumerable<Measurement<long>>> source)
    {
        lock (ActivationSources)
        {
            ActivationSources.Add(source);
        }
    }

    internal static void RemoveActivationSource(Func<IEnumerable<Measurement<long>>> source)
    {
        lock (ActivationSources)
        {
            ActivationSources.Remove(source);
        }
    }

    internal static TagList CallTags(string grainType, string method, string outcome) =>
        new() { { "grain_type", grainType }, { "method", method }, { "outcome", outcome } };

    private static IEnumerable<Measurement<long>> ObserveActivations()
    {
        Func<IEnumerable<Measurement<long>>>[] sources;
        lock (ActivationSources)
        {
            sources = [.. ActivationSources];
        }

        return sources.SelectMany(source => source());
    }
}
