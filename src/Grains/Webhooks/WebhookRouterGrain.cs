using System.Text.Json;
using MyPay.Grains.Events;
using MyPay.Silo.Events;
using Orleans;

namespace MyPay.Grains.Webhooks;

/// <summary>The webhooks' consumer of one stream of payments (a payer's wallet) or settlements (a merchant's).</summary>
public interface IWebhookRouterGrain : IOutboxConsumer;

/// <summary>
/// Hands each payment, refund and settlement event to the webhook grain of the merchant it concerns, in the stream's
/// order, acknowledging it once queued there (a redelivery is queued once, by event id).
/// </summary>
[ImplicitStreamSubscription(DomainEvents.WalletNamespace)]
[ImplicitStreamSubscription(DomainEvents.SettlementNamespace)]
public sealed class WebhookRouterGrain : Grain, IWebhookRouterGrain
{
    public override Task OnActivateAsync(CancellationToken cancellationToken) =>
        this.SubscribeToOutboxAsync([DomainEvents.WalletNamespace, DomainEvents.SettlementNamespace], Consume);

    public Task Consume(OutboxEvent published) => MerchantOf(published) is { } merchantId
        ? GrainFactory.GetGrain<IWebhookGrain>(merchantId).Queue(published)
        : Task.CompletedTask;

    /// <summary>The merchant a payment, refund or settlement event concerns; null for the events merchants are not sent.</summary>
    private static string? MerchantOf(OutboxEvent @event)
    {
        if (@event.Type is not (DomainEvents.PaymentCompleted or DomainEvents.PaymentRefunded or DomainEvents.SettlementPaid))
        {
            return null;
        }

        using var payload = JsonDocument.Parse(@event.Payload);
        return payload.RootElement.GetProperty("merchantId").GetString();
    }
}
