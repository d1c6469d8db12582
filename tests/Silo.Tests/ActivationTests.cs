using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using MyPay.Silo.Grains;
using MyPay.Silo.Hosting;
using MyPay.Silo.Tests.Support;

namespace MyPay.Silo.Tests;

/// <summary>Identity and activation: at most one activation per key on a node, created by the first message.</summary>
public sealed class ActivationTests
{
    [Fact]
    public async Task GetGrain_WithoutACall_ActivatesNothing()
    {
        var probe = new GrainProbe();
        await using var provider = TestSilo.BuildInMemory(probe);

        var counter = provider.GetCounter(TestSilo.NewKey());

        Assert.Equal(0, provider.GetSilo().ActivationCount);
        Assert.Equal(0, probe.Constructions);
        Assert.Equal(TestSilo.CounterType, counter.Id.Type);
    }

    [Fact]
    public async Task FirstCall_ActivatesTheGrainOnce_AndLaterCallsReuseIt()
    {
        var probe = new GrainProbe();
        await using var provider = TestSilo.BuildInMemory(probe);
        var key = TestSilo.NewKey();

        Assert.Equal(1, await provider.GetCounter(key).Increment().WaitAsync(TestSilo.Timeout));
        Assert.Equal(1, provider.GetSilo().ActivationCount);
        Assert.Equal(1, probe.Constructions);

        Assert.Equal(2, await provider.GetCounter(key).Increment().WaitAsync(TestSilo.Timeout));
        Assert.Equal(1, provider.GetSilo().ActivationCount);
        Assert.Equal(1, probe.Constructions);
    }

    [Fact]
    public async Task ThousandConcurrentFirstCalls_ToOneKey_MakeExactlyOneActivation()
    {
        // The first calls race from many threads, each through its own reference: the directory must
        // still construct the grain once, and every increment must land on that one activation.
        const int callCount = 1_000;
        var probe = new GrainProbe();
        await using var provider = TestSilo.BuildInMemory(probe);
        var key = TestSilo.NewKey();
        var calls = await TestSilo.SendConcurrentlyAsync(callCount, _ => provider.GetCounter(key).Increment());
        var results = await Task.WhenAll(calls).WaitAsync(TestSilo.Timeout);

        Assert.Equal(1, probe.Constructions);
        Assert.Equal(1, provider.GetSilo().ActivationCount);
        Assert.Equal(Enumerable.Range(1, callCount).Select(i => (long)i), results.Order());
        Assert.Equal(callCount, await provider.GetCounter(key).GetValue().WaitAsync(TestSilo.Timeout));
    }

    [Fact]
    public async Task CallsToDifferentKeys_MakeOneActivationPerKey()
    {
        var probe = new GrainProbe();
        await using var provider = TestSilo.BuildInMemory(probe);
        var keys = Enumerable.Range(0, 10).Select(_ => TestSilo.NewKey()).ToList();

        await Task.WhenAll(keys.SelectMany(key => Enumerable.Range(0, 20).Select(_ => provider.GetCounter(key).Increment())))
            .WaitAsync(TestSilo.Timeout);

        Assert.Equal(10, provider.GetSilo().ActivationCount);
        Assert.Equal(10, probe.Constructions);
        foreach (var key in keys)
        {
            Assert.Equal(20, await provider.GetCounter(key).GetValue().WaitAsync(TestSilo.Timeout));
        }
    }

    [Fact]
    public async Task CollectIdle_WithRecentActivity_KeepsTheActivation()
    {
        var probe = new GrainProbe();
        await using var provider = TestSilo.BuildInMemory(probe);
        await provider.GetCounter(TestSilo.NewKey()).Increment().WaitAsync(TestSilo.Timeout);

        Assert.Equal(0, provider.GetSilo().CollectIdle(TimeSpan.FromHours(1)));
        Assert.Equal(1, provider.GetSilo().ActivationCount);
    }

    [Fact]
    public async Task CollectIdle_DuringARunningTurn_KeepsTheActivation()
    {
        var probe = new GrainProbe();
        await using var provider = TestSilo.BuildInMemory(probe);
        var counter = provider.GetCounter(TestSilo.NewKey());
        var (held, release) = await counter.HoldAsync();

        Assert.Equal(0, provider.GetSilo().CollectIdle(TimeSpan.Zero));

        release.SetResult();
        await held.WaitAsync(TestSilo.Timeout);
        await provider.GetSilo().CollectIdleAsync(1);
        Assert.Equal(0, provider.GetSilo().ActivationCount);
    }

    [Fact]
    public async Task CollectIdle_RacingWithCalls_LosesNoCallAndKeepsOneActivation()
    {
        // Collection and new messages race; a message must never be lost in a collected activation.
        var probe = new GrainProbe();
        await using var provider = TestSilo.BuildInMemory(probe);
        var key = TestSilo.NewKey();
        using var stop = new CancellationTokenSource();
        using var collecting = new ManualResetEventSlim();
        var collector = Task.Factory.StartNew(
            () =>
            {
                collecting.Set();
                while (!stop.IsCancellationRequested)
                {
                    provider.GetSilo().CollectIdle(TimeSpan.Zero);
                }
            },
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);
        Assert.True(collecting.Wait(TestSilo.Timeout));

        // At least 2,000 calls, and on until the collector has won the race a few times.
        var deadline = DateTime.UtcNow + TestSilo.Timeout;
        var sent = 0;
        while (sent < 2_000 || (probe.Constructions < 5 && DateTime.UtcNow < deadline))
        {
            await provider.GetCounter(key).Increment().WaitAsync(TestSilo.Timeout);
            sent++;
        }

        await stop.CancelAsync();
        await collector.WaitAsync(TestSilo.Timeout);
        Assert.Equal(sent, await provider.GetCounter(key).GetValue().WaitAsync(TestSilo.Timeout));
        Assert.True(probe.Constructions > 1, "The collector never collected the grain, so the race was not exercised.");
        Assert.True(provider.GetSilo().ActivationCount <= 1);
    }

    [Fact]
    public async Task DisposeAsync_Twice_IsHarmless()
    {
        await using var provider = TestSilo.BuildInMemory(new GrainProbe());
        var silo = provider.GetSilo();
        await provider.GetCounter(TestSilo.NewKey()).Increment().WaitAsync(TestSilo.Timeout);

        await silo.DisposeAsync();
        await silo.DisposeAsync();
    }

    [Fact]
    public async Task GetGrain_ForAnUnregisteredInterface_Throws()
    {
        await using var provider = TestSilo.BuildInMemory(new GrainProbe());

        var exception = Assert.Throws<InvalidOperationException>(() => provider.GetSilo().GetGrain<IDisposable>("key"));
        Assert.Contains(nameof(IDisposable), exception.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    public async Task GetGrain_WithoutAKey_Throws(string? key)
    {
        await using var provider = TestSilo.BuildInMemory(new GrainProbe());

        Assert.ThrowsAny<ArgumentException>(() => provider.GetSilo().GetGrain<ICounterGrain>(key!));
    }

    [Fact]
    public async Task AddGrain_SameTypeNameTwice_FailsWhenTheSiloIsCreated()
    {
        var services = new ServiceCollection().AddLogging().AddMemoryGrainStorage();
        services.AddSingleton<Microsoft.Extensions.Configuration.IConfiguration>(
            new Microsoft.Extensions.Configuration.ConfigurationBuilder().Build());
        services.AddSilo(silo => silo
            .AddGrain<ICounterGrain, CounterGrain, CounterState>("twice", r => new CounterReference(r), (_, _, state) => new CounterGrain(state, new GrainProbe()))
            .AddGrain<ICounterGrain, CounterGrain, CounterState>("twice", r => new CounterReference(r), (_, _, state) => new CounterGrain(state, new GrainProbe())));
        await using var provider = services.BuildServiceProvider();

        var exception = Assert.Throws<InvalidOperationException>(provider.GetRequiredService<Silo>);
        Assert.Contains("'twice'", exception.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("MailboxCapacity", "0")]
    [InlineData("CommandsPerTurnMax", "0")]
    [InlineData("CommandsPerTurnMax", "4097")]
    [InlineData("ConflictRetriesMax", "-1")]
    [InlineData("ConflictRetriesMax", "101")]
    [InlineData("RecentOperationsPerActivation", "-1")]
    [InlineData("CollectionAge", "00:00:00")]
    [InlineData("CollectionInterval", "-00:00:01")]
    public async Task SiloOptions_OutOfRange_FailValidationWhenTheSiloIsCreated(string option, string value)
    {
        var configuration = new Dictionary<string, string?> { [$"{SiloOptions.SectionName}:{option}"] = value };
        await using var provider = TestSilo.Build(services => services.AddMemoryGrainStorage(), new GrainProbe(), configuration: configuration);

        var exception = Assert.Throws<OptionsValidationException>(provider.GetRequiredService<Silo>);
        Assert.Contains(option, exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SiloOptions_BindFromTheSiloSection()
    {
        var configuration = new Dictionary<string, string?>
        {
            ["Silo:MailboxCapacity"] = "7",
            ["Silo:ConflictRetriesMax"] = "0",
            ["Silo:CollectionAge"] = "00:02:00",
        };
        await using var provider = TestSilo.Build(services => services.AddMemoryGrainStorage(), new GrainProbe(), configuration: configuration);

        var options = provider.GetRequiredService<IOptions<SiloOptions>>().Value;

        Assert.Equal(7, options.MailboxCapacity);
        Assert.Equal(0, options.ConflictRetriesMax);
        Assert.Equal(TimeSpan.FromMinutes(2), options.CollectionAge);
        Assert.Equal(256, options.CommandsPerTurnMax);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(OperationKey.IdLengthMax + 1)]
    public async Task Update_WithAnOperationKeyOutOfLengthBounds_ThrowsAndAppliesNothing(int length)
    {
        var probe = new GrainProbe();
        await using var provider = TestSilo.BuildInMemory(probe);
        var counter = provider.GetCounter(TestSilo.NewKey());

        await Assert.ThrowsAsync<ArgumentException>(async () => await counter.Add(1, new OperationKey(new string('k', length), "hash")));

        Assert.Equal(0, await counter.GetValue().WaitAsync(TestSilo.Timeout));
        Assert.Equal(0, probe.Applications);
    }

    [Fact]
    public async Task Update_WithAnOperationKeyOfMaximumLength_IsAccepted()
    {
        await using var provider = TestSilo.BuildInMemory(new GrainProbe());

        var result = await provider.GetCounter(TestSilo.NewKey())
            .Add(3, new OperationKey(new string('k', OperationKey.IdLengthMax), "hash"))
            .WaitAsync(TestSilo.Timeout);

        Assert.Equal(3, result);
    }
}
