using System.Diagnostics;
using MyPay.LoadTest.Client;

namespace MyPay.LoadTest.Metrics;

/// <summary>
/// The run second by second, from the workers' start (warm-up included), each request counted in the second its final
/// answer came: how many succeeded, how many failed, and how many of either needed a retry. It shows when a disturbance
/// (a node lost, the database away) began to be felt and when the answers were clean again. Thread-safe.
/// </summary>
public sealed class RunTimeline(long startTimestamp)
{
    /// <summary>Seconds kept at most, a day: a longer run counts its later answers in the last second.</summary>
    public const int SecondsMax = 86_400;

    private readonly Lock gate = new();
    private readonly List<long[]> seconds = [];

    public void Record(Reply reply, long answeredTimestamp)
    {
        var second = (int)Math.Clamp(Stopwatch.GetElapsedTime(startTimestamp, answeredTimestamp).TotalSeconds, 0, SecondsMax - 1);
        lock (gate)
        {
            while (seconds.Count <= second)
            {
                seconds.Add(new long[3]);
            }

            seconds[second][reply.IsSuccess ? 0 : 1]++;
            if (reply.Retries > 0)
            {
                seconds[second][2]++;
            }
        }
    }

    /// <summary>Every second from the start to the last answer, quiet ones included.</summary>
    public IReadOnlyList<TimelineSecond> Seconds()
    {
        lock (gate)
        {
            return [.. seconds.Select((counts, second) => new TimelineSecond(second, counts[0], counts[1], counts[2]))];
        }
    }
}

/// <summary>One second of the run: answers that succeeded (2xx), that did not, and those of either that needed a retry.</summary>
public sealed record TimelineSecond(int Second, long Ok, long Errors, long Retried);
