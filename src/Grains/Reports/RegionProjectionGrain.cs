using MyPay.Grains.Events;
using MyPay.Silo.Events;
using Orleans;

namespace MyPay.Grains.Reports;

/// <summary>The region projection's consumer of one member's streams (its profile's and its wallet's), keyed by member id.</summary>
public interface IRegionProjectionGrain : IOutboxConsumer;

/// <summary>
/// Hands each event of a member's and its wallet's streams to <see cref="RegionProjection"/>, and acknowledges it once
/// applied: activated by the member's first event (an implicit subscription), in order per stream.
/// </summary>
[ImplicitStreamSubscription(DomainEvents.MemberNamespace)]
[ImplicitStreamSubscription(DomainEvents.WalletNamespace)]
public sealed class RegionProjectionGrain(RegionProjection projection) : Grain, IRegionProjectionGrain
{
    public override Task OnActivateAsync(CancellationToken cancellationToken) =>
        this.SubscribeToOutboxAsync([DomainEvents.MemberNamespace, DomainEvents.WalletNamespace], Consume);

    public Task Consume(OutboxEvent published) => projection.ApplyAsync(published);
}
