using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using MyPay.Silo.Events;
using MyPay.Silo.Migrations;
using MyPay.Silo.Storage.Postgres;
using MyPay.Silo.Storage.Retention;
using Orleans;
using Orleans.Configuration;
using Orleans.Hosting;
using Orleans.Providers;
using Orleans.Runtime;
using Orleans.Serialization;

namespace MyPay.Silo.Hosting;

public static class MyPaySiloBuilderExtensions
{
    /// <summary>
    /// Most connections Orleans' membership provider opens: 4. It reads and writes a few rows every few seconds.
    /// </summary>
    public const int ClusteringConnectionsMax = 4;

    /// <summary>
    /// Most connections Orleans' reminder provider opens: 16. Every recharge, refund and remittance arms and disarms a
    /// reminder, one statement each; with Npgsql's default of 100 a burst of a thousand recharges opened a hundred
    /// connections beside the grain store's, past the server's limit (53300 too many clients). Past 16, a statement
    /// waits for a connection (Npgsql's timeout) instead.
    /// </summary>
    public const int ReminderConnectionsMax = 16;

    /// <summary>The setting that turns the outbox's stream delivery off (<c>false</c>); on by default.</summary>
    public const string DeliverySetting = "Events:Delivery";

    /// <summary>The namespace of the database driver's exceptions, which Orleans is told to carry between silos.</summary>
    public const string DriverExceptionNamespace = "Npgsql";

    /// <summary>The shortest reminder period a grain may ask for: 100 ms.</summary>
    public static readonly TimeSpan MinimumReminderPeriod = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// Configures this process's Orleans silo for MyPay, in one place: its cluster id, service id, ports, address and
    /// grain call timeout from <see cref="MyPaySiloOptions"/> (validated at start-up); membership in PostgreSQL through Orleans'
    /// ADO.NET provider on MyPay's schema, its migration applied with the rest; and grains and reminders stored as
    /// <see cref="UseMyPayStorage"/> stores them.
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

        silo.Services.AddOptions<SiloMessagingOptions>().Configure<IOptions<MyPaySiloOptions>>((messaging, mine) =>
            messaging.ResponseTimeout = mine.Value.GrainCallTimeout);
        silo.Services.AddOptions<GrainDirectoryOptions>().Configure<IOptions<MyPaySiloOptions>>((directory, mine) =>
            directory.CacheSize = mine.Value.DirectoryCacheSize);

        silo.Services.AddMigrations(MigrationSource.Clustering);
        return silo
            .UseMyPayStorage(databaseUrl)
            .UsePostgresClustering(PostgresConnection.WithPoolOf(connectionString, ClusteringConnectionsMax));
    }

    /// <summary>
    /// Stores this silo's grains and reminders in PostgreSQL, as every MyPay silo does whatever finds its peers (a
    /// node's membership table, or a test cluster's own): grain storage through
    /// <see cref="Storage.GroupCommitGrainStorage"/> over the process's group-committing store (operation keys kept for
    /// <see cref="OperationKeyOptions.Retention"/>, then pruned by one reminder for the cluster), as the default
    /// provider (a grain's <c>[PersistentState]</c> with no storage name commits with everyone else's; give further
    /// names with <see cref="GroupCommitStorageExtensions.AddGroupCommitGrainStorage"/>), and the
    /// <see cref="GroupCommitStorageExtensions.BulkProviderName"/> provider for large writes, on a committer of its own; durable reminders through
    /// Orleans' ADO.NET provider on MyPay's reminder table, with periods down to <see cref="MinimumReminderPeriod"/>;
    /// and every migration — the store's, the components' added with
    /// <see cref="SiloServiceCollectionExtensions.AddMigrations"/>, the reminders' and any other provider's — applied
    /// before the silo starts, waiting (with retries) while the database is unreachable.
    /// </summary>
    /// <param name="databaseUrl">A <c>postgresql://</c> URL or a keyword connection string, as for the store.</param>
    public static ISiloBuilder UseMyPayStorage(this ISiloBuilder silo, string databaseUrl)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(databaseUrl);
        var connectionString = PostgresConnection.ToConnectionString(databaseUrl);

        // Grains choose their reminders' periods, each bounded by its own validated options (resumes every few seconds
        // in tests): Orleans' floor of one minute would refuse them.
        silo.Services.Configure<ReminderOptions>(reminders => reminders.MinimumReminderPeriod = MinimumReminderPeriod);

        silo.Services.AddPostgresGrainStorage(databaseUrl);
        silo.Services.AddMigrations(MigrationSource.Reminders);
        CarryDriverExceptions(silo.Services);

        // Operation keys are kept for their retention, then pruned by one reminder for the cluster.
        silo.Services.AddOptions<OperationKeyOptions>().BindConfiguration(OperationKeyOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        silo.Services.TryAddSingleton(TimeProvider.System);
        silo.Services.AddSingleton<OperationKeyPruner>();
        silo.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, ArmOperationKeyRetentionWhenActive>();
        silo.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, MigrateBeforeSiloStarts>();

        // Events:Delivery=false: events are still written to the outbox, in their changes' transactions, but no stream
        // delivers them (no consumer runs on this node): to weigh what delivery costs.
        silo.Services.AddSingleton<OutboxDeadLetters>();
        silo.Services.AddSingleton<OutboxMonitor>();
        silo.Services.AddSingleton<OutboxConsumers>();
        silo.Services.AddOutboxConsumerMapper();
        silo.Services.AddHostedService<OutboxMetrics>();

        // Events:Provider chooses what carries them: MyPay's outbox provider (the default), or Azure Event Hubs fed from
        // the outbox by a relay; either is registered as the stream provider 'outbox', so consumers do not change.
        if (!string.Equals(silo.Configuration[DeliverySetting], "false", StringComparison.OrdinalIgnoreCase))
        {
            if (EventHubsStreams.IsSelected(silo.Configuration))
            {
                EventHubsStreams.AddTo(silo, connectionString);
            }
            else
            {
                OutboxQueueAdapterFactory.AddTo(silo);
            }
        }

        return silo
            .UsePostgresReminders(PostgresConnection.WithPoolOf(connectionString, ReminderConnectionsMax))
            .AddGroupCommitGrainStorage(ProviderConstants.DEFAULT_STORAGE_PROVIDER_NAME)
            .AddGroupCommitGrainStorage(GroupCommitStorageExtensions.BulkProviderName, committer: GroupCommitStorageExtensions.BulkProviderName);
    }

    /// <summary>
    /// Lets Orleans carry the database driver's exceptions (<see cref="DriverExceptionNamespace"/>) from one silo to
    /// another, as it carries the runtime's own. A grain that meets an unreachable database answers with a
    /// <see cref="Grains.StorageUnavailableException"/> whose inner exception is the driver's; Orleans' exception
    /// serializer takes only the namespaces it trusts (System, Microsoft, Azure) and otherwise fails the whole answer
    /// ("Could not find a codec for type Npgsql.NpgsqlException"), so a call from another node got that failure instead,
    /// and its client a 500 where a 503 to retry was due (seen in the end-to-end test of a database outage under load
    /// through nginx). Across silos the type, message, stack trace and inner exceptions cross; the driver's own
    /// properties (a PostgreSQL error's code) arrive empty.
    /// </summary>
    internal static void CarryDriverExceptions(IServiceCollection services) =>
        services.Configure<ExceptionSerializationOptions>(exceptions => exceptions.SupportedNamespacePrefixes.Add(DriverExceptionNamespace));
}
