using System.Text.Json.Serialization;
using MyPay.Grains.Events;
using MyPay.Silo.Batching;
using MyPay.Silo.Events;
using MyPay.Silo.Storage;
using Orleans;
using Orleans.Concurrency;

namespace MyPay.Grains.Payments;

/// <summary>The default commission rate, one grain keyed <see cref="DefaultKey"/>. A merchant's own rate lives on its member grain.</summary>
public interface ICommissionGrain : IGrainWithStringKey
{
    public const string DefaultKey = "default";

    [ReadOnly]
    Task<long> GetDefaultBps();

    /// <summary>
    /// Sets the default rate, for merchants without their own, from the next payment on. A change is kept in the
    /// history (<see cref="CommissionChange"/>) with who made it and when; setting the rate in force changes nothing.
    /// </summary>
    Task<long> SetDefaultBps(long rateBps, string changedBy, DateTimeOffset changedAt);
}

[GenerateSerializer]
public sealed class CommissionState : IPublishingState
{
    /// <summary>Null until an operator sets it; <see cref="Commission.DefaultRateBps"/> applies meanwhile.</summary>
    [Id(0)]
    public long? DefaultBps { get; set; }

    /// <summary>The number of the last event on the grain's stream.</summary>
    [Id(1)]
    public long EventSequence { get; set; }

    /// <summary>The history row of the next write, if it changes the rate.</summary>
    [JsonIgnore]
    [field: NonSerialized]
    public PendingRecords Records { get; } = new();
}

public sealed class CommissionGrain : Grain, ICommissionGrain
{
    /// <summary>The stored state's name: the grain type name it had before Orleans, so stored rows carry over.</summary>
    public const string StateName = "commission";

    private readonly CommandBatch<CommissionState> commission;

    public CommissionGrain() =>
        commission = new CommandBatch<CommissionState>(this, StateName);

    public override Task OnActivateAsync(CancellationToken cancellationToken) => commission.LoadAsync();

    public Task<long> GetDefaultBps() => Task.FromResult(commission.Committed.DefaultBps ?? Commission.DefaultRateBps);

    public Task<long> SetDefaultBps(long rateBps, string changedBy, DateTimeOffset changedAt)
    {
        CommissionChange.CheckArguments(rateBps, changedBy);
        return commission.Run(state =>
        {
            // The built-in rate is the rate in force until an operator sets one: setting it is no change.
            var oldBps = state.DefaultBps ?? Commission.DefaultRateBps;
            if (oldBps != rateBps)
            {
                new CommissionChange(MerchantId: null, oldBps, rateBps, changedBy, changedAt).AppendTo(state, DomainEvents.CommissionStream(this.GetPrimaryKeyString()));
            }

            state.DefaultBps = rateBps;
            return rateBps;
        });
    }
}
