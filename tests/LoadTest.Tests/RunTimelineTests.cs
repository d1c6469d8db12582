using System.Diagnostics;
using MyPay.LoadTest.Client;
using MyPay.LoadTest.Metrics;

namespace MyPay.LoadTest.Tests;

public sealed class RunTimelineTests
{
    [Fact]
    public void Record_CountsEachAnswerInTheSecondItCame_QuietSecondsIncluded()
    {
        var start = Stopwatch.GetTimestamp();
        var timeline = new RunTimeline(start);

        timeline.Record(Answer(201), At(start, 0.2));
        timeline.Record(Answer(201, retries: 2), At(start, 0.9));
        timeline.Record(Answer(503, retries: 4), At(start, 2.5));
        timeline.Record(Answer(0, retries: 4), At(start, 2.6));
        timeline.Record(Answer(201), At(start, 3.1));

        Assert.Equal(
            [new TimelineSecond(0, 2, 0, 1), new TimelineSecond(1, 0, 0, 0), new TimelineSecond(2, 0, 2, 2), new TimelineSecond(3, 1, 0, 0)],
            timeline.Seconds());
    }

    [Fact]
    public void Record_BeyondTheLastSecondKept_CountsInIt()
    {
        var start = Stopwatch.GetTimestamp();
        var timeline = new RunTimeline(start);

        timeline.Record(Answer(201), At(start, RunTimeline.SecondsMax + 10));

        var seconds = timeline.Seconds();
        Assert.Equal(RunTimeline.SecondsMax, seconds.Count);
        Assert.Equal(1, seconds[^1].Ok);
    }

    private static Reply Answer(int status, int retries = 0) => new(status, null, "", retries, LatencyMicroseconds: 1_000);

    private static long At(long start, double seconds) => start + (long)(seconds * Stopwatch.Frequency);
}
