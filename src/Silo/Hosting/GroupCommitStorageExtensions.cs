using Microsoft.Extensions.DependencyInjection;
using MyPay.Silo.Batching;
using MyPay.Silo.Storage;
using Orleans.Hosting;
using Orleans.Providers;
using Orleans.Runtime.Hosting;

namespace MyPay.Silo.Hosting;

public static class GroupCommitStorageExtensions
{
    /// <summary>
    /// Adds a <see cref="GroupCommitGrainStorage"/> named <paramref name="name"/> (Orleans' default provider unless
    /// named, for <c>[PersistentState(state)]</c>) over the process's group-committing store, and binds the options of
    /// <see cref="CommandBatch{TState}"/>. Register the store with
    /// <see cref="SiloServiceCollectionExtensions.AddPostgresGrainStorage"/> (or memory storage, in tests). Every
    /// provider added here shares the one store, so writes through any of them commit together.
    /// </summary>
    public static ISiloBuilder AddGroupCommitGrainStorage(this ISiloBuilder silo, string name = ProviderConstants.DEFAULT_STORAGE_PROVIDER_NAME)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        silo.Services.AddOptions<CommandBatchOptions>().BindConfiguration(CommandBatchOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        silo.Services.AddGrainStorage(name, (services, providerName) => new GroupCommitGrainStorage(providerName, services.GetRequiredService<IGrainStorage>()));
        return silo;
    }
}
