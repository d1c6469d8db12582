using MyPay.Silo.Batching;
using Orleans;
using Orleans.Concurrency;
using Orleans.Runtime;

namespace MyPay.Grains.Payments;

/// <summary>The default commission rate, one grain keyed <see cref="DefaultKey"/>. A merchant's own rate lives on its member grain.</summary>
public interface ICommissionGrain : IGrainWithStringKey
{
    public const string DefaultKey = "default";

    [ReadOnly]
    Task<long> GetDefaultBps();

    Task<long> SetDefaultBps(long rateBps);
}

[GenerateSerializer]
public sealed class CommissionState
{
    /// <summary>Null until an operator sets it; <see cref="Commission.DefaultRateBps"/> applies meanwhile.</summary>
    [Id(0)]
    public long? DefaultBps { get; set; }
}

public sealed class CommissionGrain : Grain, ICommissionGrain
{
    /// <summary>The stored state's name: the grain type name it had before Orleans, so stored rows carry over.</summary>
    public const string StateName = "commission";

    private readonly CommandBatch<CommissionState> commission;

    public CommissionGrain([PersistentState(StateName)] IPersistentState<CommissionState> state) =>
        commission = new CommandBatch<CommissionState>(this, state, StateName);

    public Task<long> GetDefaultBps() => Task.FromResult(commission.Committed.DefaultBps ?? Commission.DefaultRateBps);

    public Task<long> SetDefaultBps(long rateBps)
    {
        if (rateBps is < 0 or > Commission.BasisPointsPerWhole)
        {
            throw new ArgumentOutOfRangeException(nameof(rateBps), rateBps, "A commission rate is 0 to 10,000 basis points.");
        }

        return commission.Run(state =>
        {
            state.DefaultBps = rateBps;
            return rateBps;
        });
    }
}
