using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using MyPay.Grains.Banking;
using MyPay.Grains.Money;
using MyPay.Silo.Hosting;
using MyPay.Testing;
using Npgsql;
using Orleans;
using Orleans.Runtime;
using Orleans.TestingHost;

namespace MyPay.Grains.Tests;

/// <summary>
/// A one-silo Orleans test cluster hosting every MyPay grain on a fresh PostgreSQL database, which stores grains and
/// reminders as a node does (<see cref="MyPaySiloBuilderExtensions.UseMyPayStorage"/>: the group-commit store, the
/// ADO.NET reminder table, every migration applied before the silo starts). Only membership is the test cluster's
/// own, in memory: it is not where anything is stored. Use it as an xunit class fixture (subclass it to configure the
/// silo's services): starting a silo on a new database takes about a second, so a class's tests share one, and keep
/// apart by using grain keys of their own.
/// </summary>
public class GrainHost : IAsyncLifetime
{
    private readonly PostgresDatabase database = new();
    private readonly Action<IServiceCollection>? configure;
    private InProcessTestCluster? cluster;

    public GrainHost()
    {
    }

    /// <param name="configure">Runs on the silo's services after the grains' own are added: options, a clock, a bank.</param>
    protected GrainHost(Action<IServiceCollection> configure) => this.configure = configure;

    /// <summary>The silo's services.</summary>
    public IServiceProvider Services => Cluster.GetSiloServiceProvider();

    public IGrainFactory Grains => Cluster.Client;

    /// <summary>What the grains' writes left in the database.</summary>
    public StoredRows Rows => new(Services.GetRequiredService<NpgsqlDataSource>(), Services.GetRequiredService<IRechargeRecords>(), Services.GetRequiredService<FirmbankingQueries>());

    private InProcessTestCluster Cluster => cluster ?? throw new InvalidOperationException("The grain host is not started.");

    /// <summary>Deactivates a grain and waits until it is gone: its next call activates it afresh from storage.</summary>
    public async Task DeactivateAsync(IAddressable grain)
    {
        await Cluster.DeactivateAsync(grain);
        await Cluster.WaitForDeactivationAsync(grain);
    }

    public async Task InitializeAsync()
    {
        await database.InitializeAsync();
        var builder = new InProcessTestClusterBuilder(1);
        builder.ConfigureSilo((_, silo) =>
        {
            silo.Services
                .AddSingleton<IConfiguration>(new ConfigurationBuilder().Build())
                .AddMyPayGrainServices();
            configure?.Invoke(silo.Services);
            silo.Services.TryAddSingleton<IBankGateway, UnreachableBank>();
            silo.UseMyPayStorage(database.ConnectionString);
        });
        cluster = builder.Build();
        await cluster.DeployAsync();
    }

    public async Task DisposeAsync()
    {
        if (cluster is not null)
        {
            await cluster.DisposeAsync();
        }

        await database.DisposeAsync();
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

    public Task<CorporateStatement?> GetCorporateStatementAsync(CancellationToken cancellationToken) => Task.FromResult<CorporateStatement?>(null);
}
