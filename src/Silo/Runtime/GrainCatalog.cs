using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using MyPay.Silo.Grains;
using MyPay.Silo.Storage;

namespace MyPay.Silo.Runtime;

/// <summary>The activations of one grain type on this node: at most one per key.</summary>
internal abstract class GrainCatalog
{
    public abstract string TypeName { get; }

    public abstract int ActivationCount { get; }

    /// <summary>Delivers a reminder's tick to the grain as a turn of its own; completes when the grain's handler has.</summary>
    public abstract Task RemindAsync(string key, string reminderName);

    /// <summary>Collects activations idle since <paramref name="idleSince"/> (a <see cref="Stopwatch"/> timestamp); returns how many.</summary>
    public abstract int CollectIdle(long idleSince);

    public Measurement<long> MeasureActivations() => new(ActivationCount, new KeyValuePair<string, object?>("grain_type", TypeName));
}

internal sealed class GrainCatalog<TGrain>(string typeName, Func<string, Activation<TGrain>> activate, Func<TGrain, string, Task>? onReminder = null) : GrainCatalog
    where TGrain : class
{
    private readonly ConcurrentDictionary<string, Activation<TGrain>> activations = new(StringComparer.Ordinal);

    public override string TypeName => typeName;

    public override int ActivationCount => activations.Count;

    /// <summary>
    /// Delivers a message to the key's activation, activating it if there is none. A lookup can race
    /// with collection; the collected activation refuses the message and the loop takes the new one.
    /// </summary>
    public void Send(string key, WorkItem<TGrain> item)
    {
        while (true)
        {
            var activation = activations.GetOrAdd(key, activate);
            if (activation.TryEnqueue(item))
            {
                return;
            }

            // Collected between lookup and enqueue: it is (or is about to be) out of the directory.
            activations.TryRemove(new KeyValuePair<string, Activation<TGrain>>(key, activation));
        }
    }

    public override Task RemindAsync(string key, string reminderName)
    {
        if (onReminder is null)
        {
            throw new InvalidOperationException($"Grain type '{typeName}' has a reminder '{reminderName}' but no reminder handler.");
        }

        var item = new CallItem<TGrain, bool>(typeName, "reminder:" + reminderName, async grain =>
        {
            await onReminder(grain, reminderName);
            return true;
        });
        Send(key, item);
        return item.Completion.Task;
    }

    public override int CollectIdle(long idleSince)
    {
        var collected = 0;
        foreach (var (key, activation) in activations)
        {
            if (activation.TryCollect(idleSince))
            {
                activations.TryRemove(new KeyValuePair<string, Activation<TGrain>>(key, activation));
                collected++;
            }
        }

        return collected;
    }
}

/// <summary>Creates catalogs for one registration; the silo calls it once at start.</summary>
internal static class GrainCatalogFactory
{
    public static GrainCatalog<TGrain> Create<TGrain, TState>(
        string typeName,
        IGrainStorage storage,
        SiloOptions options,
        Func<GrainId, IPersistentState<TState>, TGrain> createGrain,
        Func<TGrain, string, Task>? onReminder)
        where TGrain : class
        where TState : class, new() =>
        new(
            typeName,
            key =>
            {
                var id = new GrainId(typeName, key);
                var state = new PersistentState<TState>(id, storage);
                return new Activation<TGrain>(id, state, () => createGrain(id, state), storage, options);
            },
            onReminder);
}
