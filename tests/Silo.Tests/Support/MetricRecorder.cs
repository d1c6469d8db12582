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

    public MetricRecorder(string instrumentName)
    {
        listener.InstrumentPublished = (instrument, meterListener) =>
        {
            if (instrument.Meter.Name == SiloMetrics.MeterName && instrument.Name == instrumentName)
            {
                meterListener.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<int>((_, measurement, _, _) => measurements.Enqueue(measurement));
        listener.SetMeasurementEventCallback<long>((_, measurement, _, _) => measurements.Enqueue(measurement));
        listener.Start();
    }

    public IReadOnlyList<long> Measurements => [.. measurements];

    public void Dispose() => listener.Dispose();
}

/// <summary>Tests that read process-wide metrics: run after the parallel tests, one at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MetricsCollection
{
    public const string Name = "Metrics";
}
