using MyPay.Grains.Events;
using MyPay.Silo.Events;
using Orleans;
using Orleans.Runtime;
using Orleans.Streams;

namespace MyPay.Grains.Reports;

/// <summary>The region projection's consumer of one member's streams (its profile's and its wallet's), keyed by member id.</summary>
public interface IRegionProjectionGrain : IGrainWithStringKey;

/// <summary>
/// Hands each event of a member's and its wallet's streams to <see cref="RegionProjection"/>, and acknowledges it once
/// applied: activated by the member's first event (an implicit subscription), in order per stream.
/// </summary>
[ImplicitStreamSubscription(DomainEvents.MemberNamespace)]
[ImplicitStreamSubscription(DomainEvents.WalletNamespace)]
public sealed class RegionProjectionGrain(RegionProjection projection) : Grain, IRegionProjectionGrain
{
    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var streams = this.GetStreamProvider(OutboxQueueAdapterFactory.ProviderName);
        foreach (var streamNamespace in (string[])[DomainEvents.MemberNamespace, DomainEvents.WalletNamespace])
        {
            await streams.GetStream<OutboxEvent>(StreamId.Create(streamNamespace, this.GetPrimaryKeyString()))
                .SubscribeAsync((@event, _) => projection.ApplyAsync(@event));
        }
    }
}
