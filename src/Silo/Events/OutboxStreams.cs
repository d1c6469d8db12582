using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
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
/// (<see cref="OutboxQueueReceiver"/>), so publishing costs no commit beyond the change's own. Each event goes to
/// the stream its key names (<c>wallet:m1</c> → namespace <c>wallet</c>, key <c>m1</c>), to the grains subscribed
/// to that namespace implicitly (<c>[ImplicitStreamSubscription]</c>), in order per stream, at least once.
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
            configurator.ConfigurePullingAgent(options => options.Configure(agent => agent.GetQueueMsgsTimerPeriod = TimeSpan.FromMilliseconds(50)));
        });
    }
}

public static class OutboxSubscriptions
{
    /// <summary>How many times a consumer is handed an event before it is dead-lettered: 3.</summary>
    public const int ConsumeAttempts = 3;

    /// <summary>The wait before a consumer's second attempt at an event; it doubles for the next.</summary>
    public static readonly TimeSpan RetryWait = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// Subscribes an implicitly subscribed consumer grain (keyed by string) to its streams of the outbox in each of
    /// <paramref name="namespaces"/>, handing each event to <paramref name="handle"/>; an event is acknowledged when the
    /// handler's task completes. A handler that throws is tried again (<see cref="ConsumeAttempts"/> in all, waits
    /// doubling from <see cref="RetryWait"/>); then the event is dead-lettered (<see cref="OutboxDeadLetters"/>), under
    /// the grain's type name (<see cref="OutboxConsumers.NameOf"/>), and the stream goes on. Call it from <c>OnActivateAsync</c>; give the grain
    /// <see cref="IOutboxConsumer"/> so its dead letters can be replayed.
    /// </summary>
    public static async Task SubscribeToOutboxAsync(this Grain grain, IEnumerable<string> namespaces, Func<OutboxEvent, Task> handle)
    {
        var streams = grain.GetStreamProvider(OutboxQueueAdapterFactory.ProviderName);
        var observer = ObserverFor(grain, handle);
        foreach (var streamNamespace in namespaces)
        {
            await streams.GetStream<OutboxEvent>(StreamId.Create(streamNamespace, grain.GetPrimaryKeyString())).SubscribeAsync(observer);
        }
    }

    /// <summary>
    /// For a consumer grain whose subscription maps many streams to it (an <see cref="IStreamIdMapper"/> named in its
    /// <c>[ImplicitStreamSubscription]</c>): attaches <paramref name="handle"/>, as <see cref="SubscribeToOutboxAsync"/>
    /// does, to each stream Orleans subscribes it to. Call it from <see cref="IStreamSubscriptionObserver.OnSubscribed"/>.
    /// </summary>
    public static async Task ResumeOutboxAsync(this Grain grain, IStreamSubscriptionHandleFactory subscription, Func<OutboxEvent, Task> handle) =>
        await subscription.Create<OutboxEvent>().ResumeAsync(ObserverFor(grain, handle));

    private static Func<OutboxEvent, StreamSequenceToken?, Task> ObserverFor(Grain grain, Func<OutboxEvent, Task> handle)
    {
        var deadLetters = grain.GrainContext.ActivationServices.GetRequiredService<OutboxDeadLetters>();
        var consumer = OutboxConsumers.NameOf(grain);
        return (published, _) => ConsumeAsync(published, handle, consumer, deadLetters);
    }

    private static async Task ConsumeAsync(OutboxEvent published, Func<OutboxEvent, Task> handle, string consumer, OutboxDeadLetters deadLetters)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await handle(published);
                OutboxMetrics.ConsumerLag.Record(
                    (DateTimeOffset.UtcNow - published.OccurredAt).TotalMilliseconds, new KeyValuePair<string, object?>("consumer", consumer));
                return;
            }
            catch (Exception exception) when (attempt < ConsumeAttempts && exception is not OperationCanceledException)
            {
                await Task.Delay(RetryWait * (1 << (attempt - 1)));
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                await deadLetters.RecordAsync(consumer, published, exception.Message, attempt);
                return;
            }
        }
    }
}
