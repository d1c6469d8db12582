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
    /// The provider for large writes nobody waits on with a member's request (a claim of thousands of rows, say): it
    /// commits on a committer of its own, beside the default provider's, so such a write's long statement runs on
    /// another connection (and core) instead of holding up the many small writes queued behind it. Added by
    /// <see cref="MyPaySiloBuilderExtensions.UseMyPayStorage"/>; name it in <c>[PersistentState(state, BulkProviderName)]</c>.
    /// </summary>
    public const string BulkProviderName = "bulk";

    /// <summary>
    /// Adds a <see cref="GroupCommitGrainStorage"/> named <paramref name="name"/> (Orleans' default provider unless
    /// named, for <c>[PersistentState(state)]</c>) over the process's group-committing store, and binds the options of
    /// <see cref="CommandBatch{TState}"/>. Register the store with
    /// <see cref="SiloServiceCollectionExtensions.AddPostgresGrainStorage"/> (or memory storage, in tests).
    /// </summary>
    /// <param name="committer">
    /// Null: the provider's writes commit together with those of every other provider without a committer of its own
    /// (one transaction, one committer loop). A name: they commit on the store's committer of that name, in
    /// transactions of their own that run beside the others'; a grain's state still commits with its records.
    /// </param>
    public static ISiloBuilder AddGroupCommitGrainStorage(this ISiloBuilder silo, string name = ProviderConstants.DEFAULT_STORAGE_PROVIDER_NAME, string? committer = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        silo.Services.AddOptions<CommandBatchOptions>().BindConfiguration(CommandBatchOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        silo.Services.AddGrainStorage(name, (services, providerName) => new GroupCommitGrainStorage(
            providerName,
            committer is null ? services.GetRequiredService<IGrainStorage>() : services.GetRequiredKeyedService<IGrainStorage>(committer)));
        return silo;
    }
}
