using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.DependencyInjection.Extensions;
using MyPay.Grains.Banking;
using MyPay.Grains.Ledger;
using MyPay.Grains.Members;
using MyPay.Grains.Money;
using MyPay.Grains.Payments;
using MyPay.Grains.Remittance;
using MyPay.Grains.Reports;
using MyPay.Grains.Webhooks;
using MyPay.Grains.Settlement;
using Orleans;
using Orleans.Runtime;
using MyPay.Silo.Grains;
using MyPay.Silo.Hosting;
using MyPay.Silo.Migrations;

namespace MyPay.Grains;

/// <summary>The grain types MyPay hosts, and the options they read.</summary>
public static class GrainsRegistration
{
    /// <summary>The ledger's tables and checks (journal entries, postings, wallet balances), which <see cref="JournalWriter"/> writes to.</summary>
    public static MigrationSource LedgerMigrations { get; } = new("ledger", typeof(GrainsRegistration).Assembly, "MyPay.Grains.Ledger.Sql.");

    /// <summary>The payments' rows (<see cref="PaymentWriter"/>) and the merchants' commission history.</summary>
    public static MigrationSource PaymentMigrations { get; } = new("payments", typeof(GrainsRegistration).Assembly, "MyPay.Grains.Payments.Sql.");

    /// <summary>Settlements, and the open items the ledger adds for every payment's and refund's posting to a merchant.</summary>
    public static MigrationSource SettlementMigrations { get; } = new("settlements", typeof(GrainsRegistration).Assembly, "MyPay.Grains.Settlement.Sql.");

    /// <summary>Binds and validates the grains' options at start-up, and adds the services that span grains.</summary>
    public static IServiceCollection AddMyPayGrainServices(this IServiceCollection services)
    {
        services.AddOptions<WalletLimits>().BindConfiguration(WalletLimits.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<FirmbankingOptions>().BindConfiguration(FirmbankingOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<RechargeOptions>().BindConfiguration(RechargeOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddRecordWriter<JournalWriter>();
        services.AddMigrations(LedgerMigrations);
        services.AddMigrations(PaymentMigrations);
        services.AddMigrations(new MigrationSource("remittances", typeof(GrainsRegistration).Assembly, "MyPay.Grains.Remittance.Sql."));
        services.AddMigrations(new MigrationSource("firmbanking", typeof(GrainsRegistration).Assembly, "MyPay.Grains.Banking.Sql."));
        services.AddRecordWriter<FirmbankingIndexWriter>();
        services.TryAddSingleton<FirmbankingQueries>();
        services.AddMigrations(new MigrationSource("recharges", typeof(GrainsRegistration).Assembly, "MyPay.Grains.Money.Sql."));
        services.AddRecordWriter<RechargeWriter>();
        services.TryAddSingleton<IRechargeRecords, RechargeQueries>();
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<MemberRegistry>();
        services.AddSingleton<BankAccountLinker>();
        services.AddSingleton<GrainReferences>();
        services.AddSingleton<BankCommandDriver>();
        services.AddSingleton(provider => new Recharger(
            provider.GetRequiredService<GrainReferences>(),
            provider.GetRequiredService<BankCommandDriver>(),
            provider.GetRequiredService<IOptions<FirmbankingOptions>>().Value,
            provider.GetRequiredService<IOptions<WalletLimits>>().Value,
            provider.GetRequiredService<TimeProvider>()));
        services.AddOptions<PaymentLimits>().BindConfiguration(PaymentLimits.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton(provider => new PaymentDesk(
            provider.GetRequiredService<GrainReferences>(),
            provider.GetRequiredService<Recharger>(),
            provider.GetRequiredService<TimeProvider>()));
        services.AddRecordWriter<PaymentWriter>();
        services.AddRecordWriter<CommissionChangeWriter>();
        services.AddOptions<RemittanceOptions>().BindConfiguration(RemittanceOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddRecordWriter<RemittanceWriter>();
        services.AddRecordWriter<RemittanceFinishedWriter>();
        services.AddOptions<SettlementOptions>().BindConfiguration(SettlementOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddMigrations(SettlementMigrations);
        services.AddRecordWriter<SettlementWriter>();
        services.AddSingleton<SettlementQueries>();
        services.AddSingleton<Reconciler>();
        services.AddMigrations(new MigrationSource("reports", typeof(GrainsRegistration).Assembly, "MyPay.Grains.Reports.Sql."));
        services.AddSingleton<RegionProjection>();
        services.AddOptions<WebhookOptions>().BindConfiguration(WebhookOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddMigrations(new MigrationSource("webhooks", typeof(GrainsRegistration).Assembly, "MyPay.Grains.Webhooks.Sql."));
        services.AddSingleton<WebhookStore>();
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, ArmSettlementWhenActive>();
        return services;
    }
}
