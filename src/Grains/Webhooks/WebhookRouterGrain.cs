using System.Text.Json;
using MyPay.Grains.Events;
using MyPay.Silo.Events;
using Orleans;
using Orleans.Streams.Core;

namespace MyPay.Grains.Webhooks;

/// <summary>The webhooks' consumer of payers' wallets and merchants' settlements: one grain (<see cref="OutboxSubscriptions.ConsumerKey"/>).</summary>
public interface IWebhookRouterGrain : IOutboxConsumer;

/// <summary>
/// Hands each payment, refund and settlement event to the webhook grain of the merchant it concerns: a delivery's events
/// grouped by merchant, in their order, one call per merchant; acknowledged once queued there (a redelivery is queued
/// once, by event id).
/// </summary>
[ImplicitStreamSubscription(DomainEvents.WalletNamespace, OutboxSubscriptions.StreamIdMapperName)]
[ImplicitStreamSubscription(DomainEvents.SettlementNamespace, OutboxSubscriptions.StreamIdMapperName)]
public sealed class WebhookRouterGrain : Grain, IWebhookRouterGrain, IStreamSubscriptionObserver
{
    public Task OnSubscribed(IStreamSubscriptionHandleFactory handleFactory) => this.ResumeOutboxAsync(handleFactory);

    public Task Consume(IReadOnlyList<OutboxEvent> events) => Task.WhenAll(events
        .Select(published => (Merchant: MerchantOf(published), Event: published))
        .Where(routed => routed.Merchant is not null)
        .GroupBy(routed => routed.Merchant!, StringComparer.Ordinal)
        .Select(merchant => GrainFactory.GetGrain<IWebhookGrain>(merchant.Key).Queue([.. merchant.Select(routed => routed.Event)])));

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
