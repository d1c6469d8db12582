using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Hosting;
using Orleans.Providers;
using Orleans.Streams;

namespace MyPay.Silo.Events;

/// <summary>
/// Azure Event Hubs as the events' stream provider (<c>Events:Provider=eventhubs</c>), for production: Orleans' Event
/// Hubs provider registered under the outbox provider's name (<see cref="OutboxQueueAdapterFactory.ProviderName"/>), so
/// consumers subscribe as they always do, and an <see cref="OutboxRelay"/> that feeds it from the outbox, which stays
/// the source of truth: an event reaches the hub only after its change committed.
/// </summary>
public static class EventHubsStreams
{
    /// <summary>The setting that chooses what carries events from the outbox to consumers.</summary>
    public const string ProviderSetting = "Events:Provider";

    /// <summary>The default: MyPay's own provider reads the outbox table (<see cref="OutboxQueueAdapterFactory"/>).</summary>
    public const string OutboxProvider = "outbox";

    /// <summary>The relay sends the outbox to an event hub, and consumers read the hub through Orleans' Event Hubs provider.</summary>
    public const string EventHubsProvider = "eventhubs";

    /// <summary>
    /// How often each partition's read position is stored (in PostgreSQL, through the default grain storage): 10 s.
    /// After a node stops without flushing it, or a partition moves, the events read since are delivered again, which
    /// consumers take once by their sequence; shorter costs a write per partition per interval.
    /// </summary>
    public static readonly TimeSpan CheckpointInterval = TimeSpan.FromSeconds(10);

    /// <summary>Whether <see cref="ProviderSetting"/> chooses Event Hubs; absent means the outbox provider. Another value fails, naming the setting.</summary>
    public static bool IsSelected(IConfiguration configuration)
    {
        var provider = configuration[ProviderSetting];
        if (string.IsNullOrEmpty(provider) || string.Equals(provider, OutboxProvider, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        return string.Equals(provider, EventHubsProvider, StringComparison.OrdinalIgnoreCase)
            ? true
            : throw new InvalidOperationException($"{ProviderSetting} must be '{OutboxProvider}' (the default) or '{EventHubsProvider}'; got '{provider}'.");
    }

    /// <summary>
    /// Adds Orleans' Event Hubs stream provider as <see cref="OutboxQueueAdapterFactory.ProviderName"/>, configured from
    /// <see cref="EventHubsStreamOptions"/> (validated at start-up), and the relay that feeds it from the outbox.
    /// </summary>
    /// <param name="connectionString">The database's connection string: the relay holds its lock on a connection of its own.</param>
    public static ISiloBuilder AddTo(ISiloBuilder silo, string connectionString)
    {
        silo.Services.AddOptions<EventHubsStreamOptions>()
            .BindConfiguration(EventHubsStreamOptions.Section)
            .ValidateOnStart();
        silo.Services.AddSingleton<IValidateOptions<EventHubsStreamOptions>, EventHubsStreamOptionsValidation>();
        OutboxRelay.AddTo(silo.Services, connectionString);

        return silo.AddEventHubStreams(OutboxQueueAdapterFactory.ProviderName, configurator =>
        {
            configurator.ConfigureEventHub(hub => hub.Configure<IOptions<EventHubsStreamOptions>>((options, mine) =>
                options.ConfigureEventHubConnection(mine.Value.ConnectionString, mine.Value.Name, mine.Value.ConsumerGroup)));

            // A partition with no stored position is read from its start, not from now: events the relay sent before
            // this cluster first read the hub would otherwise never reach a consumer.
            configurator.ConfigurePartitionReceiver(receiver => receiver.Configure(options => options.StartFromNow = false));

            // Read positions go to PostgreSQL with the grains (Orleans' checkpoint grain on the default provider),
            // instead of the Azure Table Storage account Orleans' own Event Hubs checkpointer needs.
            configurator.UseGrainCheckpointer(checkpoints => checkpoints.Configure(options =>
            {
                options.StorageProviderName = ProviderConstants.DEFAULT_STORAGE_PROVIDER_NAME;
                options.PersistInterval = CheckpointInterval;
            }));
            configurator.ConfigureStreamPubSub(StreamPubSubType.ImplicitOnly);
            configurator.ConfigurePullingAgent(agent => agent.Configure(options => options.MaxEventDeliveryTime = OutboxSubscriptions.DeliveryTimeMax));
        });
    }
}
