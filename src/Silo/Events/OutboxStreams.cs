using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MyPay.Silo.Grains;
using Npgsql;
using Orleans;
using Orleans.Configuration;
using Orleans.Hosting;
using Orleans.Providers.Streams.Common;
using Orleans.Runtime;
using Orleans.Streams;
using Orleans.Streams.Core;

namespace MyPay.Silo.Events;

/// <summary>
/// The outbox as an Orleans persistent stream provider: its one queue is the outbox table, read in commit order
/// (<see cref="OutboxQueueReceiver"/>), so publishing costs no commit beyond the change's own. Each read goes out as a
/// container per namespace its events' keys name (<c>wallet:m1</c> → namespace <c>wallet</c>), on that namespace's
/// stream, to the consumers subscribed to it implicitly (<c>[ImplicitStreamSubscription]</c>, one grain each through
/// <see cref="OutboxSubscriptions.StreamIdMapperName"/>): one delivery per consumer for a read's events, in commit
/// order (so in order per key), at least once.
/// Events enter only through the outbox: the provider refuses <c>OnNextAsync</c>.
/// </summary>
public sealed class OutboxQueueAdapterFactory : IQueueAdapterFactory, IQueueAdapter
{
    /// <summary>The stream provider's name, for <c>GetStreamProvider</c>.</summary>
    public const string ProviderName = "outbox";

    /// <summary>Most events read in one go.</summary>
    public const int BatchSize = 512;

    private readonly string serviceId;
    private readonly NpgsqlDataSource dataSource;
    private readonly ILoggerFactory loggers;
    private readonly HashRingBasedStreamQueueMapper mapper;
    private readonly SimpleQueueAdapterCache cache;

    /// <param name="serviceId">The service the outbox belongs to: a reader's checkpoint is the service's, whichever cluster or node reads.</param>
    public OutboxQueueAdapterFactory(string name, string serviceId, NpgsqlDataSource dataSource, ILoggerFactory loggers)
    {
        Name = name;
        this.serviceId = serviceId;
        this.dataSource = dataSource;
        this.loggers = loggers;
        // One queue: one reader in the cluster keeps the commit order whole; the pulling agent balancer gives it to one node.
        mapper = new HashRingBasedStreamQueueMapper(new HashRingStreamQueueMapperOptions { TotalQueueCount = 1 }, name);
        cache = new SimpleQueueAdapterCache(new SimpleQueueCacheOptions(), name, loggers);
    }

    public string Name { get; }

    public bool IsRewindable => false;

    public StreamProviderDirection Direction => StreamProviderDirection.ReadOnly;

    public Task<IQueueAdapter> CreateAdapter() => Task.FromResult<IQueueAdapter>(this);

    public IQueueAdapterCache GetQueueAdapterCache() => cache;

    public IStreamQueueMapper GetStreamQueueMapper() => mapper;

    public Task<IStreamFailureHandler> GetDeliveryFailureHandler(QueueId queueId) =>
        Task.FromResult<IStreamFailureHandler>(new NoOpStreamDeliveryFailureHandler(false));

    public Task QueueMessageBatchAsync<T>(StreamId streamId, IEnumerable<T> events, StreamSequenceToken? token, Dictionary<string, object>? requestContext) =>
        throw new NotSupportedException($"Events enter stream provider '{Name}' only through the outbox, in the transaction of the change they tell of.");

    public IQueueAdapterReceiver CreateReceiver(QueueId queueId) =>
        new OutboxQueueReceiver(dataSource, $"{serviceId}/{Name}/{queueId}", BatchSize, loggers.CreateLogger<OutboxQueueReceiver>());

    /// <summary>Adds the outbox stream provider (<see cref="ProviderName"/>) over the process's data source; implicit subscriptions only.</summary>
    public static ISiloBuilder AddTo(ISiloBuilder silo)
    {
        silo.Services.TryAddSingleton<OutboxDeadLetters>();
        silo.Services.TryAddSingleton<OutboxConsumers>();
        silo.Services.AddOutboxConsumerMapper();
        return silo.AddPersistentStreams(
        ProviderName,
        (services, name) => new OutboxQueueAdapterFactory(
            name,
            services.GetRequiredService<IOptions<ClusterOptions>>().Value.ServiceId,
            services.GetRequiredService<NpgsqlDataSource>(),
            services.GetRequiredService<ILoggerFactory>()),
        configurator =>
        {
            configurator.ConfigureStreamPubSub(StreamPubSubType.ImplicitOnly);
            configurator.ConfigurePullingAgent(options => options.Configure(agent =>
            {
                agent.GetQueueMsgsTimerPeriod = TimeSpan.FromMilliseconds(50);
                agent.MaxEventDeliveryTime = OutboxSubscriptions.DeliveryTimeMax;
            }));
        });
    }
}

public static class OutboxSubscriptions
{
    /// <summary>How many times a consumer is handed an event before it is dead-lettered: 3.</summary>
    public const int ConsumeAttempts = 3;

    /// <summary>
    /// The stream id mapper every consumer's <c>[ImplicitStreamSubscription]</c> names: it sends all of a namespace's
    /// streams to the consumer's one grain, keyed <see cref="ConsumerKey"/>.
    /// </summary>
    public const string StreamIdMapperName = "outbox-consumer";

    /// <summary>The key of a consumer's one grain.</summary>
    public const string ConsumerKey = "all";

    /// <summary>The key of the stream a namespace's events of one read travel on from the outbox provider.</summary>
    public const string NamespaceStreamKey = "*";

    /// <summary>
    /// How long a stream's pulling agent keeps handing a consumer a delivery that failed (an outage, see
    /// <see cref="ResumeOutboxAsync"/>): without end. Orleans' default, a minute, would then skip the events, and the
    /// checkpoint would pass them for good.
    /// </summary>
    public static readonly TimeSpan DeliveryTimeMax = Timeout.InfiniteTimeSpan;

    /// <summary>The wait before a consumer's second attempt at events; it doubles for the next.</summary>
    public static readonly TimeSpan RetryWait = TimeSpan.FromMilliseconds(100);

    /// <summary>Adds the stream id mapper consumers name (<see cref="StreamIdMapperName"/>), once.</summary>
    public static IServiceCollection AddOutboxConsumerMapper(this IServiceCollection services)
    {
        services.TryAddKeyedSingleton<IStreamIdMapper>(StreamIdMapperName, new OneGrainStreamIdMapper(ConsumerKey));
        return services;
    }

    /// <summary>
    /// Hands the deliveries of a stream Orleans subscribed a consumer grain to to its <see cref="IOutboxConsumer.Consume"/>: call it from
    /// <see cref="IStreamSubscriptionObserver.OnSubscribed"/> of a grain whose <c>[ImplicitStreamSubscription]</c>s
    /// name <see cref="StreamIdMapperName"/>. The handler gets the events of one delivery at once, in commit order within
    /// each stream (from the outbox provider, a whole read of the namespace), and they are acknowledged when its task
    /// completes. A handler that throws is tried again, after a wait doubling from <see cref="RetryWait"/>, then with each
    /// event alone: an event failing its last attempt (<see cref="ConsumeAttempts"/> in all) is dead-lettered
    /// (<see cref="OutboxDeadLetters"/>) under the grain's type name (<see cref="OutboxConsumers.NameOf"/>), and the
    /// others go on. Give the grain <see cref="IOutboxConsumer"/> so its dead letters can be replayed.
    /// <para>
    /// An outage (<see cref="Outages.IsOutage"/>: a node that died and is not yet declared dead, the database away) is
    /// not the events' fault and dead-letters nothing: the delivery fails, and the stream's pulling agent hands the
    /// same events again, after its backoff, for as long as it takes (<see cref="DeliveryTimeMax"/>), holding back this
    /// consumer's later events meanwhile.
    /// </para>
    /// </summary>
    public static async Task ResumeOutboxAsync<TGrain>(this TGrain grain, IStreamSubscriptionHandleFactory subscription)
        where TGrain : Grain, IOutboxConsumer =>
        await subscription.Create<OutboxEvent>().ResumeAsync(new Consumer(
            OutboxConsumers.NameOf(grain), grain.Consume, grain.GrainContext.ActivationServices.GetRequiredService<OutboxDeadLetters>()));

    private sealed class Consumer(string name, Func<IReadOnlyList<OutboxEvent>, Task> handle, OutboxDeadLetters deadLetters) : IAsyncBatchObserver<OutboxEvent>
    {
        public Task OnNextAsync(IList<SequentialItem<OutboxEvent>> items) => ConsumeAsync([.. items.Select(item => item.Item)]);

        public Task OnCompletedAsync() => Task.CompletedTask;

        public Task OnErrorAsync(Exception ex) => Task.CompletedTask;

        private async Task ConsumeAsync(IReadOnlyList<OutboxEvent> events)
        {
            for (var attempt = 1; attempt < ConsumeAttempts; attempt++)
            {
                if (await TryAsync(events) is null)
                {
                    return;
                }

                await Task.Delay(RetryWait * (1 << (attempt - 1)));
            }

            // The last attempt, event by event: one that fails again does not hold back the others of its delivery.
            foreach (var published in events)
            {
                if (await TryAsync([published]) is { } failure)
                {
                    await deadLetters.RecordAsync(name, published, failure.Message, ConsumeAttempts);
                }
            }
        }

        /// <summary>Hands the events over; the failure, if the handler threw. An outage is thrown on to the stream, to deliver again later.</summary>
        private async Task<Exception?> TryAsync(IReadOnlyList<OutboxEvent> events)
        {
            try
            {
                await handle(events);
            }
            catch (Exception exception) when (exception is not OperationCanceledException && !Outages.IsOutage(exception))
            {
                return exception;
            }

            var now = DateTimeOffset.UtcNow;
            foreach (var published in events)
            {
                OutboxMetrics.ConsumerLag.Record((now - published.OccurredAt).TotalMilliseconds, new KeyValuePair<string, object?>("consumer", name));
            }

            return null;
        }
    }
}
