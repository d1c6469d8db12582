using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using MyPay.Silo.Migrations;
using MyPay.Silo.Storage.Postgres;
using Orleans;
using Orleans.Configuration;
using Orleans.Hosting;
using Orleans.Providers;
using Orleans.Runtime;

namespace MyPay.Silo.Hosting;

public static class MyPaySiloBuilderExtensions
{
    /// <summary>The shortest reminder period a grain may ask for: 100 ms.</summary>
    public static readonly TimeSpan MinimumReminderPeriod = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// Configures this process's Orleans silo for MyPay, in one place: its cluster id, service id, ports and
    /// address from <see cref="MyPaySiloOptions"/> (validated at start-up); membership and durable reminders in
    /// PostgreSQL through Orleans' ADO.NET providers on MyPay's schema; grain storage through
    /// <see cref="Storage.GroupCommitGrainStorage"/> over the process's group-committing store, as the default
    /// provider (a grain's <c>[PersistentState]</c> with no storage name commits with everyone else's; give
    /// further names with <see cref="GroupCommitStorageExtensions.AddGroupCommitGrainStorage"/>); and every
    /// migration — the store's, the components' added with
    /// <see cref="SiloServiceCollectionExtensions.AddMigrations"/>, clustering and reminders — applied before the
    /// silo starts, waiting (with retries) while the database is unreachable.
    /// </summary>
    /// <param name="databaseUrl">A <c>postgresql://</c> URL or a keyword connection string, as for the store.</param>
    public static ISiloBuilder UseMyPaySilo(this ISiloBuilder silo, string databaseUrl)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(databaseUrl);
        var connectionString = PostgresConnection.ToConnectionString(databaseUrl);

        silo.Services.AddOptions<MyPaySiloOptions>()
            .Configure<Microsoft.Extensions.Configuration.IConfiguration>((options, configuration) => options.Read(configuration))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        silo.Services.AddSingleton<IValidateOptions<MyPaySiloOptions>, MyPaySiloOptionsValidation>();
        silo.Services.AddOptions<ClusterOptions>().Configure<IOptions<MyPaySiloOptions>>((cluster, mine) =>
        {
            cluster.ClusterId = mine.Value.ClusterId;
            cluster.ServiceId = mine.Value.ServiceId;
        });
        silo.Services.AddOptions<EndpointOptions>().Configure<IOptions<MyPaySiloOptions>>((endpoints, mine) =>
        {
            endpoints.AdvertisedIPAddress = IPAddress.Parse(mine.Value.AdvertisedAddress);
            endpoints.SiloPort = mine.Value.SiloPort;
            endpoints.GatewayPort = mine.Value.GatewayPort;
        });

        // Grains choose their reminders' periods, each bounded by its own validated options (resumes every few seconds
        // in tests): Orleans' floor of one minute would refuse them.
        silo.Services.Configure<ReminderOptions>(reminders => reminders.MinimumReminderPeriod = MinimumReminderPeriod);

        silo.Services.AddPostgresGrainStorage(databaseUrl);
        silo.Services.AddMigrations(MigrationSource.Clustering);
        silo.Services.AddMigrations(MigrationSource.Reminders);
        silo.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, MigrateBeforeSiloStarts>();

        return silo
            .UsePostgresClustering(connectionString)
            .UsePostgresReminders(connectionString)
            .AddGroupCommitGrainStorage(ProviderConstants.DEFAULT_STORAGE_PROVIDER_NAME);
    }
}
