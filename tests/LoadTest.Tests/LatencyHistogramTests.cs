using MyPay.LoadTest.Metrics;

namespace MyPay.LoadTest.Tests;

public class LatencyHistogramTests
{
    [Fact]
    public void ValueAtPercentile_Empty_IsZero()
    {
        var histogram = new LatencyHistogram();

        Assert.Equal(0, histogram.ValueAtPercentile(99));
        Assert.Equal(0, histogram.MaxMicroseconds);
    }

    [Fact]
    public void ValueAtPercentile_UniformValues_WithinOneBucket()
    {
        // 1..100,000 µs once each: the p-th percentile is p × 1,000 µs, known to within 1/64.
        var histogram = new LatencyHistogram();
        for (var microseconds = 1L; microseconds <= 100_000; microseconds++)
        {
            histogram.Record(microseconds);
        }

        foreach (var percentile in new[] { 50.0, 90.0, 99.0, 99.9 })
        {
            var exact = percentile * 1_000;
            var reported = histogram.ValueAtPercentile(percentile);
            Assert.InRange(reported, exact, exact * (1 + (1.0 / 64)));
        }

        Assert.Equal(100_000, histogram.ValueAtPercentile(100));
        Assert.Equal(100_000, histogram.MaxMicroseconds);
        Assert.Equal(50_000.5, histogram.MeanMicroseconds, precision: 3);
    }

    [Fact]
    public void ValueAtPercentile_NeverAboveTheMax()
    {
        var histogram = new LatencyHistogram();
        histogram.Record(1_000_001);

        Assert.Equal(1_000_001, histogram.ValueAtPercentile(50));
    }

    [Fact]
    public void Index_EveryValueFallsInTheBucketWhoseEdgesHoldIt()
    {
        for (var microseconds = 0L; microseconds < 1L << 40; microseconds = (microseconds * 17 / 16) + 1)
        {
            var index = LatencyHistogram.Index(microseconds);
            if (microseconds < 1L << 38)
            {
                Assert.True(microseconds <= LatencyHistogram.UpperEdge(index), $"{microseconds} µs is above its bucket's edge");
            }

            Assert.True(index == 0 || microseconds > LatencyHistogram.UpperEdge(index - 1), $"{microseconds} µs belongs in an earlier bucket");
        }
    }

    [Fact]
    public void Record_Negative_CountsAsZero()
    {
        var histogram = new LatencyHistogram();
        histogram.Record(-5);

        Assert.Equal(1, histogram.Count);
        Assert.Equal(0, histogram.ValueAtPercentile(100));
    }
}
