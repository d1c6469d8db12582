using MyPay.Grains.Events;
using MyPay.Silo.Events;
using Orleans;
using Orleans.Concurrency;
using Orleans.Streams.Core;

namespace MyPay.Grains.Reports;

/// <summary>The region projection's consumer of members' and wallets' streams: one grain (<see cref="OutboxSubscriptions.ConsumerKey"/>).</summary>
public interface IRegionProjectionGrain : IOutboxConsumer;

/// <summary>
/// Hands each delivery of members' and wallets' events to <see cref="RegionProjection"/>, and acknowledges it once
/// applied. Reentrant: the projection applies each stream's events only past the sequence applied from it, so
/// deliveries of the two namespaces, and an operator's replays, may overlap.
/// </summary>
[ImplicitStreamSubscription(DomainEvents.MemberNamespace, OutboxSubscriptions.StreamIdMapperName)]
[ImplicitStreamSubscription(DomainEvents.WalletNamespace, OutboxSubscriptions.StreamIdMapperName)]
[Reentrant]
public sealed class RegionProjectionGrain(RegionProjection projection) : Grain, IRegionProjectionGrain, IStreamSubscriptionObserver
{
    public Task OnSubscribed(IStreamSubscriptionHandleFactory handleFactory) => this.ResumeOutboxAsync(handleFactory);

    public Task Consume(IReadOnlyList<OutboxEvent> events) => projection.ApplyAsync(events);
}
