using System.Numerics;

namespace MyPay.LoadTest.Metrics;

/// <summary>
/// Latencies in microseconds, in log-linear buckets as HdrHistogram keeps them: exact below 128 µs, then each power
/// of two split into 64 buckets, so any value is known to within 1/64 (1.6%). Values above about 38 hours are counted
/// in the last bucket. Recording is lock-free (one interlocked increment), so every worker records into one histogram
/// and the progress line can read it while the run goes on.
/// </summary>
public sealed class LatencyHistogram
{
    /// <summary>Buckets per power of two, and the width of the exact range below 2 × this.</summary>
    private const int SubBuckets = 64;

    private const int ExactBelow = 2 * SubBuckets;

    /// <summary>The largest power of two kept apart: 2^37 µs is about 38 hours.</summary>
    private const int ExponentMax = 37;

    private const int ExponentFirst = 7;

    private readonly long[] counts = new long[ExactBelow + ((ExponentMax - ExponentFirst + 1) * SubBuckets)];
    private long count;
    private long sumMicroseconds;
    private long maxMicroseconds;

    public long Count => Volatile.Read(ref count);

    public long MaxMicroseconds => Volatile.Read(ref maxMicroseconds);

    public double MeanMicroseconds => Count == 0 ? 0 : (double)Volatile.Read(ref sumMicroseconds) / Count;

    public void Record(long microseconds)
    {
        var value = Math.Max(0, microseconds);
        Interlocked.Increment(ref counts[Index(value)]);
        Interlocked.Add(ref sumMicroseconds, value);
        Interlocked.Increment(ref count);
        var max = Volatile.Read(ref maxMicroseconds);
        while (value > max)
        {
            var seen = Interlocked.CompareExchange(ref maxMicroseconds, value, max);
            if (seen == max)
            {
                break;
            }

            max = seen;
        }
    }

    /// <summary>
    /// The value at or below which <paramref name="percentile"/> percent of the recorded values fall: the upper edge
    /// of its bucket, never more than the largest value recorded. 0 when nothing was recorded.
    /// </summary>
    public long ValueAtPercentile(double percentile)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(percentile, 0);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(percentile, 100);
        var total = Count;
        if (total == 0)
        {
            return 0;
        }

        var wanted = Math.Max(1, (long)Math.Ceiling(total * percentile / 100));
        long seen = 0;
        for (var index = 0; index < counts.Length; index++)
        {
            seen += Volatile.Read(ref counts[index]);
            if (seen >= wanted)
            {
                return Math.Min(UpperEdge(index), MaxMicroseconds);
            }
        }

        return MaxMicroseconds;
    }

    internal static int Index(long microseconds)
    {
        if (microseconds < ExactBelow)
        {
            return (int)microseconds;
        }

        var exponent = Math.Min(BitOperations.Log2((ulong)microseconds), ExponentMax);
        var shift = exponent - 6;
        var top = Math.Min(microseconds >> shift, (2 * SubBuckets) - 1);
        return ExactBelow + ((exponent - ExponentFirst) * SubBuckets) + (int)(top - SubBuckets);
    }

    /// <summary>The largest value that falls in bucket <paramref name="index"/>.</summary>
    internal static long UpperEdge(int index)
    {
        if (index < ExactBelow)
        {
            return index;
        }

        var exponent = ((index - ExactBelow) / SubBuckets) + ExponentFirst;
        var top = ((index - ExactBelow) % SubBuckets) + SubBuckets;
        var shift = exponent - 6;
        return ((top + 1L) << shift) - 1;
    }
}
