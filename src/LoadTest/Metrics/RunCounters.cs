using System.Collections.Concurrent;
using MyPay.LoadTest.Client;

namespace MyPay.LoadTest.Metrics;

/// <summary>What the measured part of the run saw: answers by outcome, retries, latencies. Thread-safe.</summary>
public sealed class RunCounters
{
    private readonly ConcurrentDictionary<string, long> outcomes = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> examples = new(StringComparer.Ordinal);
    private long requests;
    private long ok;
    private long retries;
    private long autoTopUps;

    public LatencyHistogram Latency { get; } = new();

    public long Requests => Volatile.Read(ref requests);

    public long Ok => Volatile.Read(ref ok);

    public long Errors => Requests - Ok;

    /// <summary>Attempts sent again with the same Idempotency-Key after a timeout, a network error or a 5xx.</summary>
    public long Retries => Volatile.Read(ref retries);

    /// <summary>Payments for which the node topped the wallet up from the linked bank account first.</summary>
    public long AutoTopUps => Volatile.Read(ref autoTopUps);

    /// <summary>Counts one measured answer, with its latency: the reply's own, or from when a paced request was due.</summary>
    public void Record(Reply reply, bool toppedUp, long latencyMicroseconds)
    {
        Latency.Record(latencyMicroseconds);
        outcomes.AddOrUpdate(reply.Outcome, 1, (_, seen) => seen + 1);
        Interlocked.Add(ref retries, reply.Retries);
        if (reply.IsSuccess)
        {
            Interlocked.Increment(ref ok);
        }
        else if (!examples.ContainsKey(reply.Outcome))
        {
            examples.TryAdd(reply.Outcome, reply.Explanation());
        }

        if (toppedUp)
        {
            Interlocked.Increment(ref autoTopUps);
        }

        Interlocked.Increment(ref requests);
    }

    /// <summary>For each kind of error, what the first one said (the problem's detail), so a report shows why, not only how many.</summary>
    public IReadOnlyDictionary<string, string> ErrorExamples() => examples.OrderBy(example => example.Key, StringComparer.Ordinal).ToDictionary();

    /// <summary>Count of each answer ("201", "422 insufficient-funds", "timeout"), most frequent first.</summary>
    public IReadOnlyList<KeyValuePair<string, long>> Outcomes() =>
        [.. outcomes.OrderByDescending(outcome => outcome.Value).ThenBy(outcome => outcome.Key, StringComparer.Ordinal)];
}
