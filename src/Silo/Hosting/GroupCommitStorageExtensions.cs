using Microsoft.Extensions.DependencyInjection;
using MyPay.Silo.Storage;
using Orleans.Hosting;
using Orleans.Runtime.Hosting;

namespace MyPay.Silo.Hosting;

public static class GroupCommitStorageExtensions
{
    /// <summary>
    /// Adds a <see cref="GroupCommitGrainStorage"/> named <paramref name="name"/> (for <c>[PersistentState(state, name)]</c>)
    /// over the process's group-committing store: register that store with
    /// <see cref="SiloServiceCollectionExtensions.AddPostgresGrainStorage"/> (or memory storage, in tests). Every
    /// provider added here shares the one store, so writes through any of them commit together.
    /// </summary>
    public static ISiloBuilder AddGroupCommitGrainStorage(this ISiloBuilder silo, string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        silo.Services.AddGrainStorage(name, (services, providerName) => new GroupCommitGrainStorage(providerName, services.GetRequiredService<IGrainStorage>()));
        return silo;
    }
}
