using System.Diagnostics;
using System.Diagnostics.Metrics;
using MyPay.Silo.Diagnostics;
using MyPay.Silo.Grains;
using MyPay.Silo.Runtime;
using MyPay.Silo.Storage;

namespace MyPay.Silo;

/// <summary>
/// The actor host of one node: it finds or activates grains by interface and key, and collects
/// idle activations. Several silos may share one storage (in one process for tests, or across
/// machines); storage's conditional writes keep them from overwriting each other.
/// </summary>
public sealed class Silo : IGrainFactory, IAsyncDisposable
{
    private readonly Dictionary<Type, Func<string, object>> references = [];
    private readonly List<GrainCatalog> catalogs = [];
    private readonly SiloOptions options;
    private readonly IServiceProvider services;
    private readonly Func<IEnumerable<Measurement<long>>> activationSource;
    private readonly CancellationTokenSource stopping = new();
    private readonly Task collector;
    private int disposed;

    internal Silo(SiloOptions options, IGrainStorage storage, IEnumerable<IGrainRegistration> registrations, IServiceProvider services)
    {
        this.options = options;
        this.services = services;
        foreach (var registration in registrations)
        {
            if (catalogs.Any(catalog => catalog.TypeName == registration.TypeName))
            {
                throw new InvalidOperationException($"Grain type name '{registration.TypeName}' is registered twice.");
            }

            var (catalog, reference) = registration.Build(storage, options, services);
            catalogs.Add(catalog);
            references.Add(registration.InterfaceType, reference);
        }

        activationSource = () => catalogs.Select(catalog => catalog.MeasureActivations());
        SiloMetrics.AddActivationSource(activationSource);
        collector = CollectPeriodicallyAsync();
    }

    /// <summary>Live activations on this node, over all grain types.</summary>
    public int ActivationCount => catalogs.Sum(catalog => catalog.ActivationCount);

    /// <summary>
    /// A grain this silo hosts, or, while grains move onto Orleans one by one, an Orleans grain of the co-hosted
    /// Orleans silo: callers reach either through this one factory.
    /// </summary>
    public TGrainInterface GetGrain<TGrainInterface>(string key)
        where TGrainInterface : class
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        if (references.TryGetValue(typeof(TGrainInterface), out var reference))
        {
            return (TGrainInterface)reference(key);
        }

        if (typeof(Orleans.IGrainWithStringKey).IsAssignableFrom(typeof(TGrainInterface))
            && services.GetService(typeof(Orleans.IGrainFactory)) is Orleans.IGrainFactory orleans)
        {
            return (TGrainInterface)orleans.GetGrain(typeof(TGrainInterface), key);
        }

        throw new InvalidOperationException($"No grain is registered for {typeof(TGrainInterface).Name}.");
    }

    /// <summary>Delivers a reminder tick to a grain; completes when its handler has.</summary>
    internal Task RemindAsync(GrainId grain, string reminderName) =>
        catalogs.Find(catalog => catalog.TypeName == grain.Type) is { } catalog
            ? catalog.RemindAsync(grain.Key, reminderName)
            : throw new InvalidOperationException($"A reminder '{reminderName}' is due for {grain}, a grain type this node does not host.");

    /// <summary>Collects every activation idle for at least <paramref name="idleFor"/>; returns how many.</summary>
    public int CollectIdle(TimeSpan idleFor)
    {
        var idleSince = Stopwatch.GetTimestamp() - (long)(idleFor.TotalSeconds * Stopwatch.Frequency);
        return catalogs.Sum(catalog => catalog.CollectIdle(idleSince));
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref disposed, 1) == 1)
        {
            return;
        }

        SiloMetrics.RemoveActivationSource(activationSource);
        await stopping.CancelAsync();
        try
        {
            await collector;
        }
        catch (OperationCanceledException)
        {
            // Stopping is the expected way out of the collection loop.
        }

        stopping.Dispose();
    }

    private async Task CollectPeriodicallyAsync()
    {
        using var timer = new PeriodicTimer(options.CollectionInterval);
        while (await timer.WaitForNextTickAsync(stopping.Token))
        {
            CollectIdle(options.CollectionAge);
        }
    }
}
