using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MyPay.Silo.Batching;
using MyPay.Silo.Events;
using Orleans;
using Orleans.Concurrency;
using Orleans.Runtime;

namespace MyPay.Grains.Webhooks;

/// <summary>One merchant's webhook, keyed by merchant id: where its events go, and their delivery.</summary>
public interface IWebhookGrain : IGrainWithStringKey
{
    /// <summary>Sets (or replaces) where the merchant's events are POSTed and the secret that signs them.</summary>
    Task<WebhookEndpoint> Register(Uri url, string secret, DateTimeOffset at);

    [ReadOnly]
    Task<WebhookEndpoint?> GetEndpoint();

    /// <summary>Queues events for delivery in the order given (each once per event id), if the merchant has a webhook, and starts delivering.</summary>
    Task Queue(IReadOnlyList<OutboxEvent> events);
}

[GenerateSerializer]
public sealed class WebhookState
{
    [Id(0)]
    public WebhookEndpoint? Endpoint { get; set; }
}

/// <summary>
/// Delivers a merchant's events to its webhook, one at a time in the order they were queued, each signed
/// (<see cref="WebhookSignature"/>). A receiver that fails (no answer, or not 2xx) is tried again after a wait that
/// doubles from <see cref="WebhookOptions.RetryMin"/> up to <see cref="WebhookOptions.RetryMax"/>, and nothing behind
/// the failed event is sent meanwhile. The queue is a table, so a restart loses nothing: a reminder, armed while events
/// wait, wakes the merchant's grain again.
/// </summary>
[Reentrant]
public sealed partial class WebhookGrain : Grain, IWebhookGrain, IRemindable
{
    public const string StateName = "webhook";

    private const int PendingBatch = 50;

    private static readonly JsonSerializerOptions BodyOptions = new(JsonSerializerDefaults.Web);

    private readonly CommandBatch<WebhookState> state;
    private readonly WebhookStore store;
    private readonly IWebhookSender sender;
    private readonly WebhookOptions options;
    private readonly TimeProvider time;
    private readonly ILogger<WebhookGrain> logger;
    private readonly Resumption resumption;
    private Task delivering = Task.CompletedTask;
    private IGrainTimer? retry;
    private int failures;

    /// <summary>Whether an event was queued since the delivery loop last read the queue: it must read again before it stops.</summary>
    private bool queuedSinceRead;

    public WebhookGrain(
        WebhookStore store,
        IWebhookSender sender,
        IOptions<WebhookOptions> options,
        TimeProvider time,
        ILogger<WebhookGrain> logger)
    {
        this.state = new CommandBatch<WebhookState>(this, StateName);
        this.store = store;
        this.sender = sender;
        this.options = options.Value;
        this.time = time;
        this.logger = logger;
        resumption = new Resumption(this, this.options.ResumeInterval);
    }

    public override Task OnActivateAsync(CancellationToken cancellationToken) => state.LoadAsync();

    private string MerchantId => this.GetPrimaryKeyString();

    public Task<WebhookEndpoint> Register(Uri url, string secret, DateTimeOffset at) =>
        state.Run(current => current.Endpoint = new WebhookEndpoint(url, secret, at));

    public Task<WebhookEndpoint?> GetEndpoint() => Task.FromResult(state.Committed.Endpoint);

    public async Task Queue(IReadOnlyList<OutboxEvent> events)
    {
        if (state.Committed.Endpoint is null)
        {
            return;
        }

        await resumption.ArmAsync();
        await store.QueueAsync(MerchantId, events);
        queuedSinceRead = true;
        StartDelivering();
    }

    public Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName == Resumption.ReminderName)
        {
            StartDelivering();
        }

        return Task.CompletedTask;
    }

    /// <summary>Starts the delivery loop unless it runs, or waits for a retry.</summary>
    private void StartDelivering()
    {
        if (delivering.IsCompleted && retry is null)
        {
            delivering = DeliverAsync();
        }
    }

    private async Task DeliverAsync()
    {
        while (state.Committed.Endpoint is { } endpoint)
        {
            queuedSinceRead = false;
            var pending = await store.PendingAsync(MerchantId, PendingBatch);
            if (pending.Count == 0)
            {
                if (queuedSinceRead)
                {
                    continue;
                }

                // An event queued while the reminder is being disarmed (its arming found it armed) would wait for nothing.
                await resumption.DisarmAsync();
                if (!queuedSinceRead)
                {
                    return;
                }

                await resumption.ArmAsync();
                continue;
            }

            foreach (var delivery in pending)
            {
                using var data = JsonDocument.Parse(delivery.Payload);
                var body = JsonSerializer.Serialize(new { id = delivery.EventId, type = delivery.Type, occurredAt = delivery.OccurredAt, data = data.RootElement }, BodyOptions);
                var signature = WebhookSignature.Create(endpoint.Secret, time.GetUtcNow().ToUnixTimeSeconds(), body);
                string? error = null;
                try
                {
                    if (!await sender.SendAsync(endpoint.Url, body, signature, CancellationToken.None))
                    {
                        error = "the receiver did not answer 2xx";
                    }
                }
                catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException or IOException)
                {
                    error = exception.Message;
                }

                await store.RecordAttemptAsync(delivery.EventId, error is null, error);
                if (error is not null)
                {
                    ScheduleRetry(delivery.EventId, error);
                    return;
                }

                failures = 0;
            }
        }
    }

    private void ScheduleRetry(string eventId, string error)
    {
        failures++;
        var wait = TimeSpan.FromTicks(Math.Min(options.RetryMax.Ticks, options.RetryMin.Ticks * (1L << Math.Min(failures - 1, 30))));
        LogRetry(logger, MerchantId, eventId, error, wait);
        retry = this.RegisterGrainTimer(
            () =>
            {
                retry?.Dispose();
                retry = null;
                StartDelivering();
                return Task.CompletedTask;
            },
            new GrainTimerCreationOptions(wait, Timeout.InfiniteTimeSpan) { Interleave = true });
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Webhook of merchant {MerchantId}: event {EventId} not delivered ({Error}); trying again in {Wait}")]
    private static partial void LogRetry(ILogger logger, string merchantId, string eventId, string error, TimeSpan wait);
}
