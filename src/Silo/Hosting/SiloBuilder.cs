using MyPay.Silo.Grains;
using MyPay.Silo.Runtime;

namespace MyPay.Silo.Hosting;

/// <summary>Declares the grain types a silo hosts.</summary>
public sealed class SiloBuilder
{
    internal List<IGrainRegistration> Registrations { get; } = [];

    /// <summary>
    /// Registers a grain type.
    /// </summary>
    /// <param name="typeName">The stable name stored with the grain's state; never rename it once data exists.</param>
    /// <param name="reference">Wraps a <see cref="GrainReference{TGrain}"/> in the class that implements <typeparamref name="TInterface"/>.</param>
    /// <param name="create">Constructs the grain on activation, after its state has been loaded.</param>
    /// <param name="onReminder">
    /// Receives the grain's reminder ticks (by reminder name), each as a turn of its own. A tick can repeat
    /// after a crash, so the handler must be idempotent.
    /// </param>
    public SiloBuilder AddGrain<TInterface, TGrain, TState>(
        string typeName,
        Func<GrainReference<TGrain>, TInterface> reference,
        Func<IServiceProvider, GrainId, IPersistentState<TState>, TGrain> create,
        Func<TGrain, string, Task>? onReminder = null)
        where TInterface : class
        where TGrain : class
        where TState : class, new()
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(typeName);
        Registrations.Add(new GrainRegistration<TInterface, TGrain, TState>(typeName, reference, create, onReminder));
        return this;
    }
}
