using System.Diagnostics;

namespace MyPay.LoadTest.Running;

/// <summary>
/// Open-loop pacing for <c>--rate</c>: request n is due at start + n / rate, whatever happened to the requests
/// before it, and whichever worker is free takes the next one. A run's latency is measured from when each
/// request was due, not from when a worker got round to sending it, so a node that falls behind shows the wait
/// in the percentiles instead of quietly slowing the client down (no coordinated omission).
/// </summary>
public sealed class Pacer
{
    private readonly long start;
    private readonly double ticksPerRequest;
    private long taken = -1;

    public Pacer(double requestsPerSecond, long startTimestamp)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(requestsPerSecond);
        start = startTimestamp;
        ticksPerRequest = Stopwatch.Frequency / requestsPerSecond;
    }

    /// <summary>When the next request is due, as a <see cref="Stopwatch"/> timestamp. Each call takes a new slot; safe from any thread.</summary>
    public long NextDue() => start + (long)(Interlocked.Increment(ref taken) * ticksPerRequest);
}
