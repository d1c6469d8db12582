using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using MyPay.Grains.Banking;
using MyPay.Grains.Money;
using Orleans;
using Orleans.Hosting;
using Orleans.Runtime;
using MyPay.Silo.Hosting;
using Orleans.TestingHost;

namespace MyPay.Grains.Tests;

/// <summary>
/// A one-silo Orleans test cluster hosting every MyPay grain, on the group-commit storage provider over the in-memory
/// store (the same contract as PostgreSQL's, tested against both in the silo's tests) with in-memory reminders. Start
/// it with <see cref="StartAsync"/>.
/// </summary>
internal sealed class GrainHost(Action<IServiceCollection>? configure = null) : IAsyncDisposable
{
    private InProcessTestCluster? cluster;

    /// <summary>The silo's services.</summary>
    public IServiceProvider Services => Cluster.GetSiloServiceProvider();

    public IGrainFactory Grains => Cluster.Client;

    private InProcessTestCluster Cluster => cluster ?? throw new InvalidOperationException("The grain host is not started.");

    /// <summary>Deactivates a grain and waits until it is gone: its next call activates it afresh from storage.</summary>
    public async Task DeactivateAsync(IAddressable grain)
    {
        await Cluster.DeactivateAsync(grain);
        await Cluster.WaitForDeactivationAsync(grain);
    }

    public async Task StartAsync()
    {
        var builder = new InProcessTestClusterBuilder(1);
        builder.ConfigureSilo((_, silo) =>
        {
            silo.Services
                .AddSingleton<IConfiguration>(new ConfigurationBuilder().Build())
                .AddMyPayGrainServices()
                .AddMemoryGrainStorage()
                .AddSingleton<IRechargeRecords, NoRechargeRows>();
            configure?.Invoke(silo.Services);
            silo.Services.TryAddSingleton<IBankGateway, UnreachableBank>();
            silo.AddGroupCommitGrainStorage();
            silo.UseInMemoryReminderService();
            silo.Services.Configure<ReminderOptions>(reminders => reminders.MinimumReminderPeriod = MyPaySiloBuilderExtensions.MinimumReminderPeriod);
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

/// <summary>The recharge rows of the in-memory store, which keeps none (rows are PostgreSQL's): a wallet's tick finds no recharge to carry on.</summary>
internal sealed class NoRechargeRows : IRechargeRecords
{
    public Task<RechargeRecord?> FindAsync(string rechargeId, CancellationToken cancellationToken) => Task.FromResult<RechargeRecord?>(null);
}
