using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using MyPay.Grains.Banking;
using MyPay.Silo.Grains;
using MyPay.Silo.Hosting;

namespace MyPay.Grains.Tests;

/// <summary>A silo hosting every MyPay grain on in-memory storage: fast grain tests, same contract as PostgreSQL.</summary>
internal sealed class GrainHost : IAsyncDisposable
{
    private readonly ServiceProvider services;

    public GrainHost(Action<IServiceCollection>? configure = null)
    {
        var collection = new ServiceCollection()
            .AddLogging()
            .AddSingleton<IConfiguration>(new ConfigurationBuilder().Build())
            .AddMyPayGrainServices()
            .AddSilo(silo => silo.AddMyPayGrains())
            .AddMemoryGrainStorage();
        configure?.Invoke(collection);
        collection.TryAddSingleton<IBankGateway, UnreachableBank>();
        services = collection.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
    }

    public IServiceProvider Services => services;

    public IGrainFactory Grains => services.GetRequiredService<IGrainFactory>();

    public MyPay.Silo.Silo Silo => services.GetRequiredService<MyPay.Silo.Silo>();

    public ValueTask DisposeAsync() => services.DisposeAsync();
}

/// <summary>A bank that never answers: for grain tests that involve no bank, and for those that must survive its absence.</summary>
internal sealed class UnreachableBank : IBankGateway
{
    public Task<AccountLookup> LookUpAccountAsync(BankAccountNumber account, CancellationToken cancellationToken) =>
        Task.FromResult(new AccountLookup(AccountLookupStatus.BankUnavailable, null));

    public Task<TransferOutcome> TransferAsync(BankTransfer transfer, CancellationToken cancellationToken) =>
        Task.FromResult(TransferOutcome.Unanswered("unreachable"));

    public Task<TransferOutcome> GetTransferAsync(string requestId, CancellationToken cancellationToken) =>
        Task.FromResult(TransferOutcome.Unanswered("unreachable"));
}
