using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using MyPay.Silo.Grains;
using MyPay.Silo.Hosting;

namespace MyPay.Silo.Tests.Support;

/// <summary>Builds a silo hosting the test counter grain, the way a node's service collection does.</summary>
public static class TestSilo
{
    /// <summary>The counter grain's stored type name.</summary>
    public const string CounterType = "counter";

    /// <summary>How long any await in a test may take before the test fails instead of hanging.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    public static ServiceProvider Build(
        Action<IServiceCollection> addStorage,
        GrainProbe probe,
        Action<SiloOptions>? configure = null,
        IReadOnlyDictionary<string, string?>? configuration = null)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder()
            .AddInMemoryCollection(configuration ?? new Dictionary<string, string?>())
            .Build());
        services.AddSilo(silo => silo.AddGrain<ICounterGrain, CounterGrain, CounterState>(
            CounterType,
            reference => new CounterReference(reference),
            (_, _, state) =>
            {
                probe.Constructed();
                return new CounterGrain(state, probe);
            }));
        addStorage(services);
        if (configure is not null)
        {
            services.Configure(configure);
        }

        return services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
    }

    public static ServiceProvider BuildInMemory(GrainProbe probe, Action<SiloOptions>? configure = null) =>
        Build(services => services.AddMemoryGrainStorage(), probe, configure);

    public static Silo GetSilo(this IServiceProvider provider) => provider.GetRequiredService<Silo>();

    public static ICounterGrain GetCounter(this IServiceProvider provider, string key) =>
        provider.GetRequiredService<IGrainFactory>().GetGrain<ICounterGrain>(key);

    public static string NewKey() => $"counter-{Guid.NewGuid():N}";

    public static GrainId CounterId(string key) => new(CounterType, key);

    /// <summary>
    /// Collects idle activations until <paramref name="expected"/> have been collected. A caller's await
    /// can finish a moment before its activation's turn loop goes idle, so a single collection could miss it.
    /// </summary>
    public static async Task CollectIdleAsync(this Silo silo, int expected)
    {
        var collected = 0;
        var deadline = DateTime.UtcNow + Timeout;
        while ((collected += silo.CollectIdle(TimeSpan.Zero)) < expected)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Collected {collected} of {expected} activations within {Timeout}.");
            }

            await Task.Delay(5);
        }

        Assert.Equal(expected, collected);
    }

    /// <summary>
    /// Sends <paramref name="count"/> messages from several thread-pool threads at once, and returns
    /// their tasks once all have been sent.
    /// </summary>
    public static async Task<Task<T>[]> SendConcurrentlyAsync<T>(int count, Func<int, Task<T>> send)
    {
        var calls = new Task<T>[count];
        using var start = new ManualResetEventSlim();
        var senders = Task.Run(() => Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i =>
        {
            start.Wait();
            calls[i] = send(i);
        }));
        start.Set();
        await senders.WaitAsync(Timeout);
        return calls;
    }

    /// <summary>
    /// Starts a turn that holds the grain until the returned source is completed, and waits until it runs:
    /// messages sent meanwhile queue up and are taken together when it ends.
    /// </summary>
    public static async Task<(Task<long> Held, TaskCompletionSource Release)> HoldAsync(this ICounterGrain grain)
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var held = grain.Hold(started, release.Task);
        await started.Task.WaitAsync(Timeout);
        return (held, release);
    }
}
