using MyPay.Silo.Grains;
using MyPay.Silo.Tests.Support;

namespace MyPay.Silo.Tests;

/// <summary>The silo's own instruments. They read the process-wide meter, so they run alone.</summary>
[Collection(MetricsCollection.Name)]
public sealed class SiloMetricsTests
{
    private static readonly string[] ExpectedCalls = ["Increment/ok", "Add/ok", "Add/replayed", "AddThenThrow/InvalidOperationException"];

    [Fact]
    public async Task ActivationsGauge_ReportsLiveActivationsPerGrainType_UntilTheSiloIsDisposed()
    {
        using var activations = new MetricRecorder("mypay.silo.activations");
        var provider = TestSilo.BuildInMemory(new GrainProbe());
        await using (provider)
        {
            await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => provider.GetCounter(TestSilo.NewKey()).Increment())).WaitAsync(TestSilo.Timeout);

            activations.Observe();
            var (live, tags) = Assert.Single(activations.Tagged);
            Assert.Equal(3, live);
            Assert.Equal(TestSilo.CounterType, tags["grain_type"]);

            await provider.GetSilo().CollectIdleAsync(3);
            activations.Observe();
            Assert.Equal(0, activations.Tagged[^1].Value);
        }

        var observedBefore = activations.Tagged.Count;
        activations.Observe();
        Assert.Equal(observedBefore, activations.Tagged.Count);
    }

    [Fact]
    public async Task Calls_AreCountedPerGrainTypeMethodAndOutcome()
    {
        using var calls = new MetricRecorder("mypay.silo.calls");
        await using var provider = TestSilo.BuildInMemory(new GrainProbe());
        var counter = provider.GetCounter(TestSilo.NewKey());

        await counter.Increment().WaitAsync(TestSilo.Timeout);
        await counter.Add(1, new OperationKey("k1", "hashA")).WaitAsync(TestSilo.Timeout);
        await counter.Add(1, new OperationKey("k1", "hashA")).WaitAsync(TestSilo.Timeout);
        await Assert.ThrowsAsync<InvalidOperationException>(() => counter.AddThenThrow(1).WaitAsync(TestSilo.Timeout));

        // A call is recorded as it is answered, just after its caller resumes: give the last one a moment.
        var deadline = DateTime.UtcNow + TestSilo.Timeout;
        while (calls.Tagged.Count < 4 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(5);
        }

        Assert.Equal(
            ExpectedCalls.Order(),
            calls.Tagged.Select(call => $"{call.Tags["method"]}/{call.Tags["outcome"]}").Order());
        Assert.All(calls.Tagged, call => Assert.Equal((1L, TestSilo.CounterType), (call.Value, call.Tags["grain_type"])));
    }
}
