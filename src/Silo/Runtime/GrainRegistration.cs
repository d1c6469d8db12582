using MyPay.Silo.Grains;
using MyPay.Silo.Storage;

namespace MyPay.Silo.Runtime;

/// <summary>One grain type as registered with the silo: its interface, stable type name, reference and constructor.</summary>
internal interface IGrainRegistration
{
    Type InterfaceType { get; }

    string TypeName { get; }

    /// <summary>Creates this type's catalog, and the function that turns a key into a reference implementing the interface.</summary>
    (GrainCatalog Catalog, Func<string, object> Reference) Build(IGrainStorage storage, SiloOptions options, IServiceProvider services);
}

internal sealed class GrainRegistration<TInterface, TGrain, TState>(
    string typeName,
    Func<GrainReference<TGrain>, TInterface> reference,
    Func<IServiceProvider, GrainId, IPersistentState<TState>, TGrain> create,
    Func<TGrain, string, Task>? onReminder) : IGrainRegistration
    where TInterface : class
    where TGrain : class
    where TState : class, new()
{
    public Type InterfaceType => typeof(TInterface);

    public string TypeName => typeName;

    public (GrainCatalog Catalog, Func<string, object> Reference) Build(IGrainStorage storage, SiloOptions options, IServiceProvider services)
    {
        var catalog = GrainCatalogFactory.Create<TGrain, TState>(typeName, storage, options, (id, state) => create(services, id, state), onReminder);
        return (catalog, key => reference(new GrainReference<TGrain>(catalog, key)));
    }
}
