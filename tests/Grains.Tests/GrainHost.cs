using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using MyPay.Grains.Banking;
using MyPay.Silo.Grains;
using MyPay.Silo.Hosting;
using Orleans.TestingHost;

namespace MyPay.Grains.Tests;

/// <summary>
/// A one-silo Orleans test cluster hosting every MyPay grain: those already on Orleans, and the rest on the
/// silo's own runtime beside it, all on in-memory storage under the same contract as PostgreSQL's (the grains that
/// store money move to PostgreSQL with their port). Start it with <see cref="StartAsync"/>.
/// </summary>
internal sealed class GrainHost(Action<IServiceCollection>? configure = null) : IAsyncDisposable
{
    private InProcessTestCluster? cluster;

    /// <summary>The silo's services.</summary>
    public IServiceProvider Services => Cluster.GetSiloServiceProvider();

    /// <summary>Reaches every MyPay grain, on Orleans or not.</summary>
    public IGrainFactory Grains => Services.GetRequiredService<IGrainFactory>();

    public MyPay.Silo.Silo Silo => Services.GetRequiredService<MyPay.Silo.Silo>();

    private InProcessTestCluster Cluster => cluster ?? throw new InvalidOperationException("The grain host is not started.");

    public async Task StartAsync()
    {
        var builder = new InProcessTestClusterBuilder(1);
        builder.ConfigureSilo((_, silo) =>
        {
            silo.Services
                .AddSingleton<IConfiguration>(new ConfigurationBuilder().Build())
                .AddMyPayGrainServices()
                .AddMemoryGrainStorage();
            configure?.Invoke(silo.Services);
            silo.Services.TryAddSingleton<IBankGateway, UnreachableBank>();
            silo.AddGroupCommitGrainStorage();
        });
        cluster = builder.Build();
        await cluster.DeployAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (cluster is not null)
        {
            await cluster.DisposeAsync();
        }
    }
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
