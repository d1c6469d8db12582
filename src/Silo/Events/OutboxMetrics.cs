using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace MyPay.Silo.Events;

/// <summary>
/// Consumer lag and dead letters as metrics, on the meter <c>MyPay.Events</c>: every <see cref="Interval"/> each silo
/// reads <see cref="OutboxMonitor"/> (as GET /v1/events/status does), and the gauges report the latest reading, a
/// measurement per outbox reader (tag <c>reader</c>). One meter per process, as <see cref="Diagnostics.SiloMetrics"/>:
/// several silos in one process (tests) each add their readings.
/// </summary>
public sealed partial class OutboxMetrics(OutboxMonitor monitor, TimeProvider clock, ILogger<OutboxMetrics> logger) : BackgroundService
{
    public const string MeterName = "MyPay.Events";

    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);

    private static readonly Meter Meter = new(MeterName);

    private static readonly ConcurrentDictionary<OutboxMetrics, OutboxStatus> Latest = new();

    private static readonly ObservableGauge<long> Lag = Meter.CreateObservableGauge(
        "mypay.events.lag", () => Readers(status => status.Reader.EventsBehind), "{event}",
        "Committed outbox events a reader has not yet handed to every consumer.");

    private static readonly ObservableGauge<double> LagAge = Meter.CreateObservableGauge(
        "mypay.events.lag.age", () => Readers(status => status.Reader.OldestUndeliveredAt is { } oldest ? (status.ReadAt - oldest).TotalSeconds : 0), "s",
        "How long the oldest event a reader has not yet delivered had waited when last read.");

    private static readonly ObservableGauge<long> DeadLetters = Meter.CreateObservableGauge<long>(
        "mypay.events.dead_letters", () => Latest.Values.Select(status => new Measurement<long>(status.DeadLettersPending)), "{event}",
        "Events a consumer gave up on, not replayed yet.");

    /// <summary>
    /// Time from an event's happening to a consumer's having applied it: its commit, the outbox read, delivery and the
    /// consumer's work (tag <c>consumer</c>, the consumer's name). Recorded by <see cref="OutboxSubscriptions"/>.
    /// </summary>
    public static readonly Histogram<double> ConsumerLag = Meter.CreateHistogram<double>(
        "mypay.events.consumer.lag", "ms", "Time from an event's happening to a consumer's having applied it.",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [5, 10, 25, 50, 75, 100, 150, 250, 500, 1000, 2500, 5000, 10000, 30000] });

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        Latest.TryRemove(this, out _);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, clock);
        do
        {
            try
            {
                Latest[this] = await monitor.StatusAsync(stoppingToken);
            }
            catch (Exception exception) when (!stoppingToken.IsCancellationRequested)
            {
                // The database may be away for a while: the gauges keep the last reading, and the next tick tries again.
                LogReadFailed(logger, exception.Message);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }

    private static IEnumerable<Measurement<T>> Readers<T>(Func<(OutboxReaderStatus Reader, DateTimeOffset ReadAt), T> value)
        where T : struct =>
        Latest.Values.SelectMany(status => status.Readers.Select(reader =>
            new Measurement<T>(value((reader, status.ReadAt)), new KeyValuePair<string, object?>("reader", reader.Reader))));

    [LoggerMessage(Level = LogLevel.Warning, Message = "Reading the outbox's lag for its metrics failed ({Error}); trying again")]
    private static partial void LogReadFailed(ILogger logger, string error);
}
