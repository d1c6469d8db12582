using System.Diagnostics;
using System.Globalization;
using MyPay.LoadTest.Client;
using MyPay.LoadTest.Metrics;
using MyPay.LoadTest.Scenarios;

namespace MyPay.LoadTest.Running;

/// <summary>
/// Runs the workers: each sends one request at a time, with a fresh Idempotency-Key per request, until the warm-up
/// and the measured duration have passed. A request under way when time is up is finished, not abandoned, so every
/// request ends with an answer the verification can hold the node to.
/// </summary>
public sealed class Runner(MyPayClient node, Workload workload, RequestLog log, RunCounters counters, string runId, int seed)
{
    private long completed;
    private int exhausted;

    /// <summary>Runs the scenario; <paramref name="stop"/> ends it early (as Ctrl-C does), <paramref name="abort"/> abandons requests under way.</summary>
    /// <param name="rate">Requests per second to send, paced open-loop by a <see cref="Pacer"/>; 0 for each worker sending its next request as soon as the last is answered.</param>
    public async Task<RunTiming> RunAsync(
        int concurrency, int rate, TimeSpan warmup, TimeSpan duration, Action<RunProgress> progress, CancellationToken stop, CancellationToken abort)
    {
        var startedAt = DateTimeOffset.UtcNow;
        var started = Stopwatch.GetTimestamp();
        var timeline = new RunTimeline(started);
        var measureFrom = started + Ticks(warmup);
        var end = measureFrom + Ticks(duration);
        var pacer = rate > 0 ? new Pacer(rate, started) : null;
        var workers = Enumerable.Range(0, concurrency)
            .Select(worker => Task.Run(() => WorkAsync(worker, pacer, timeline, measureFrom, end, stop, abort), abort))
            .ToArray();
        var all = Task.WhenAll(workers);
        await ReportProgressAsync(all, started, progress);
        await all;

        var finished = Stopwatch.GetTimestamp();
        var measured = finished > measureFrom ? Stopwatch.GetElapsedTime(measureFrom, finished) : TimeSpan.Zero;
        var endedEarly = Volatile.Read(ref exhausted) == 1
            ? "every wallet reached the node's balance cap"
            : stop.IsCancellationRequested ? "interrupted" : null;
        return new RunTiming(measured, Stopwatch.GetElapsedTime(started, finished), endedEarly, startedAt, timeline.Seconds());
    }

    private async Task WorkAsync(int worker, Pacer? pacer, RunTimeline timeline, long measureFrom, long end, CancellationToken stop, CancellationToken abort)
    {
        // Seeded from the run's seed and the worker's number (not HashCode, which differs per process), so a seed repeats a run's choices.
        var random = new Random(unchecked((seed * 1_000_003) + worker));
        for (long sequence = 0; !stop.IsCancellationRequested; sequence++)
        {
            // Paced, a request counts from when it was due; otherwise from now, when the worker is free.
            var due = pacer?.NextDue() ?? Stopwatch.GetTimestamp();
            // A paced run that has fallen behind ends on time too: the requests it could not send are not sent late.
            if (due >= end || !await WaitUntilAsync(due, stop) || Stopwatch.GetTimestamp() >= end)
            {
                return;
            }

            if (workload.Next(random) is not { } operation)
            {
                Volatile.Write(ref exhausted, 1);
                return;
            }

            // Measured when sent after the warm-up, with the wait since it was due: a backlog run up in the warm-up shows.
            var measured = Stopwatch.GetTimestamp() >= measureFrom;
            var key = string.Create(CultureInfo.InvariantCulture, $"lt-{runId}-{worker}-{sequence}");
            var token = await operation.Customer.Tokens.GetAsync(abort);
            var request = SentRequest.ToSend(operation.Customer.Id, operation.Kind, key, operation.AmountWon, operation.MerchantId);
            var reply = await node.SendAsync(request, token, abort);
            timeline.Record(reply, Stopwatch.GetTimestamp());
            var answered = request.AnsweredBy(reply);
            log.Add(answered);
            if (measured)
            {
                counters.Record(reply, answered.ToppedUp, pacer is null ? reply.LatencyMicroseconds : (long)Stopwatch.GetElapsedTime(due).TotalMicroseconds);
            }

            Interlocked.Increment(ref completed);
            if (operation.Kind == RequestKind.Recharge && reply.ProblemType == "balance-cap-exceeded")
            {
                operation.Customer.MarkFull();
            }
        }
    }

    /// <summary>Once a second until the workers are done: elapsed time, the last second's rate, p99 so far, errors.</summary>
    private async Task ReportProgressAsync(Task workers, long started, Action<RunProgress> progress)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        var completedBefore = 0L;
        var tickBefore = started;
        while (!workers.IsCompleted)
        {
            var tick = await Task.WhenAny(timer.WaitForNextTickAsync().AsTask(), workers);
            if (tick == workers)
            {
                return;
            }

            var now = Stopwatch.GetTimestamp();
            var completedNow = Volatile.Read(ref completed);
            var rate = (completedNow - completedBefore) / Stopwatch.GetElapsedTime(tickBefore, now).TotalSeconds;
            progress(new RunProgress(
                Stopwatch.GetElapsedTime(started, now), counters.Requests == 0, rate, counters.Latency.ValueAtPercentile(99), counters.Errors, completedNow));
            completedBefore = completedNow;
            tickBefore = now;
        }
    }

    /// <summary>Waits until the timestamp; false when the run is stopped first.</summary>
    private static async Task<bool> WaitUntilAsync(long timestamp, CancellationToken stop)
    {
        var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), timestamp);
        if (wait > TimeSpan.Zero)
        {
            try
            {
                await Task.Delay(wait, stop);
            }
            catch (OperationCanceledException)
            {
                return false;
            }
        }

        return !stop.IsCancellationRequested;
    }

    private static long Ticks(TimeSpan span) => (long)(span.TotalSeconds * Stopwatch.Frequency);
}

/// <summary>
/// How long the measured part lasted (to the last answer), the whole run, and why it ended early, if it did; when the
/// workers started (UTC), and the answers second by second from then.
/// </summary>
public sealed record RunTiming(TimeSpan Measured, TimeSpan Total, string? EndedEarly, DateTimeOffset StartedAt, IReadOnlyList<TimelineSecond> Timeline);

/// <summary>One progress line's numbers. <see cref="WarmingUp"/> until the first measured answer; <see cref="Completed"/> counts warm-up requests too.</summary>
public sealed record RunProgress(TimeSpan Elapsed, bool WarmingUp, double RequestsPerSecond, long P99Microseconds, long Errors, long Completed);
