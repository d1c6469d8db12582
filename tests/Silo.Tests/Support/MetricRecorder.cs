using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using MyPay.Silo.Diagnostics;

namespace MyPay.Silo.Tests.Support;

/// <summary>
/// Records one instrument of the silo's meter while it lives. The meter is process-wide, so tests that
/// assert on exact measurements belong to the <see cref="MetricsCollection"/>, which runs alone.
/// </summary>
public sealed class MetricRecorder : IDisposable
{
    private readonly MeterListener listener = new();
    private readonly ConcurrentQueue<long> measurements = new();
    private readonly ConcurrentQueue<(long Value, IReadOnlyDictionary<string, object?> Tags)> tagged = new();

    public MetricRecorder(string instrumentName)
    {
        listener.InstrumentPublished = (instrument, meterListener) =>
        {
            if (instrument.Meter.Name == SiloMetrics.MeterName && instrument.Name == instrumentName)
            {
                meterListener.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<int>((_, measurement, tags, _) => Record(measurement, tags));
        listener.SetMeasurementEventCallback<long>((_, measurement, tags, _) => Record(measurement, tags));
        listener.Start();
    }

    public IReadOnlyList<long> Measurements => [.. measurements];

    /// <summary>Each measurement with its tags.</summary>
    public IReadOnlyList<(long Value, IReadOnlyDictionary<string, object?> Tags)> Tagged => [.. tagged];

    /// <summary>Asks observable instruments, such as the activation gauge, for their current values.</summary>
    public void Observe() => listener.RecordObservableInstruments();

    private void Record(long measurement, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var copied = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var tag in tags)
        {
            copied[tag.Key] = tag.Value;
        }

        measurements.Enqueue(measurement);
        tagged.Enqueue((measurement, copied));
    }

    public void Dispose() => listener.Dispose();
}

/// <summary>Tests that read process-wide metrics: run after the parallel tests, one at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MetricsCollection
{
    public const string Name = "Metrics";
}
