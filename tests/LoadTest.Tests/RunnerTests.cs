using System.Diagnostics;
using System.Net;
using System.Text;
using MyPay.LoadTest.Client;
using MyPay.LoadTest.Metrics;
using MyPay.LoadTest.Preparation;
using MyPay.LoadTest.Running;
using MyPay.LoadTest.Scenarios;

namespace MyPay.LoadTest.Tests;

/// <summary>The runner against a stub node that answers every payment after a fixed delay.</summary>
public sealed class RunnerTests
{
    [Fact]
    public async Task Paced_WithinWhatTheWorkersCanDo_SendsAtTheRateNotAsFastAsTheyCan()
    {
        // Four workers and a 1 ms node send hundreds a second unpaced; paced at 100 a second, the run's 1.5 s
        // (warm-up included) have 150 requests due and never send more. Fewer when this machine is busy: with the
        // other test projects running beside it, 32 were seen, so only the ceiling is asserted.
        var (paced, pacedLog, _) = await RunAsync(workers: 4, rate: 100, nodeDelay: TimeSpan.FromMilliseconds(1));
        var (_, unpacedLog, _) = await RunAsync(workers: 4, rate: 0, nodeDelay: TimeSpan.FromMilliseconds(1));

        Assert.InRange(pacedLog.Count, 1, 150);
        Assert.Equal(paced.Requests, paced.Ok);
        Assert.True(unpacedLog.Count > 150, $"Unpaced, four workers sent only {unpacedLog.Count} requests: the comparison shows nothing.");
    }

    [Fact]
    public async Task Paced_FasterThanTheWorkersCanGo_CountsLatencyFromWhenEachRequestWasDue()
    {
        // One worker and a 20 ms node manage 50 a second; paced at 200, each request is sent later than the one
        // before was due, and by the measured second requests wait hundreds of milliseconds before they are sent.
        var (counters, _, _) = await RunAsync(workers: 1, rate: 200, nodeDelay: TimeSpan.FromMilliseconds(20));

        Assert.InRange(counters.Requests, 5, 60);
        // Behind by 375 ms when the measured second starts, and falling further behind: the median shows it.
        Assert.True(counters.Latency.ValueAtPercentile(50) > 300_000, $"p50 {counters.Latency.ValueAtPercentile(50)} µs does not show the backlog.");
    }

    [Fact]
    public async Task ClosedLoop_CountsTheNodesOwnLatency()
    {
        var (counters, _, _) = await RunAsync(workers: 1, rate: 0, nodeDelay: TimeSpan.FromMilliseconds(20));

        Assert.InRange(counters.Requests, 5, 60);
        Assert.True(counters.Latency.ValueAtPercentile(50) < 300_000, $"p50 {counters.Latency.ValueAtPercentile(50)} µs is not the node's 20 ms.");
    }

    [Fact]
    public async Task Run_TimelineFromTheStart_CountsEveryAnswer_WarmUpIncluded()
    {
        var before = DateTimeOffset.UtcNow;
        var (counters, log, timing) = await RunAsync(workers: 2, rate: 0, nodeDelay: TimeSpan.FromMilliseconds(5));

        Assert.InRange(timing.StartedAt, before, DateTimeOffset.UtcNow);
        Assert.Equal(log.Count, timing.Timeline.Sum(second => second.Ok));
        Assert.True(log.Count > counters.Requests, "The warm-up's answers are in the timeline, not in the measured counts.");
        Assert.Equal(Enumerable.Range(0, timing.Timeline.Count), timing.Timeline.Select(second => second.Second));
        Assert.InRange(timing.Timeline.Count, 1, 3);
    }

    [Fact]
    public void Pacer_GivesEachCallerTheNextSlot_OneIntervalApart_EvenFromManyThreads()
    {
        var pacer = new Pacer(1_000, startTimestamp: 0);

        var dues = new long[10_000];
        Parallel.For(0, dues.Length, i => dues[i] = pacer.NextDue());

        Array.Sort(dues);
        var interval = Stopwatch.Frequency / 1_000.0;
        Assert.All(Enumerable.Range(0, dues.Length), i => Assert.Equal((long)(i * interval), dues[i]));
    }

    /// <summary>Runs pay for 0.5 s of warm-up and 1 s measured; returns what was measured and every request sent.</summary>
    private static async Task<(RunCounters Measured, RequestLog Sent, RunTiming Timing)> RunAsync(int workers, int rate, TimeSpan nodeDelay)
    {
        var node = new MyPayClient(new HttpSender(new HttpClient(new StubNode(nodeDelay)), TimeSpan.FromSeconds(10)), new Uri("http://node.test/"));
        using var tokens = new TokenKeeper(node, "payer", "password");
        var workload = new Workload(Scenario.Pay, new Cast([new Customer(0, "m1", tokens)], ["shop"]));
        var counters = new RunCounters();
        var log = new RequestLog();
        // Half a second of warm-up, not measured, takes the first sign-in and the JIT out of the measured second.
        var timing = await new Runner(node, workload, log, counters, "run", seed: 1)
            .RunAsync(workers, rate, TimeSpan.FromSeconds(0.5), TimeSpan.FromSeconds(1), _ => { }, CancellationToken.None, CancellationToken.None);
        return (counters, log, timing);
    }

    /// <summary>Signs anyone in, and answers every payment with 201 after the delay.</summary>
    private sealed class StubNode(TimeSpan delay) : HttpMessageHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.RequestUri!.AbsolutePath.EndsWith("/v1/auth/token", StringComparison.Ordinal))
            {
                return Json(HttpStatusCode.OK, """{"accessToken":"token","expiresIn":3600,"subject":"m1"}""");
            }

            await Task.Delay(delay, cancellationToken);
            return Json(HttpStatusCode.Created, """{"paymentId":"p1","payerId":"m1","merchantId":"shop","amount":100,"balance":0,"toppedUp":null}""");
        }

        private static HttpResponseMessage Json(HttpStatusCode status, string body) =>
            new(status) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
    }
}
