using MyPay.Silo.Grains;

namespace MyPay.Grains.Payments;

/// <summary>The default commission rate, one grain keyed <see cref="DefaultKey"/>. A merchant's own rate lives on its member grain.</summary>
public interface ICommissionGrain
{
    public const string DefaultKey = "default";

    Task<long> GetDefaultBps();

    Task<long> SetDefaultBps(long rateBps);
}

public sealed class CommissionState
{
    /// <summary>Null until an operator sets it; <see cref="Commission.DefaultRateBps"/> applies meanwhile.</summary>
    public long? DefaultBps { get; set; }
}

public sealed class CommissionGrain(IPersistentState<CommissionState> commission)
{
    public long DefaultBps => commission.State.DefaultBps ?? Commission.DefaultRateBps;

    public long SetDefaultBps(long rateBps)
    {
        if (rateBps is < 0 or > Commission.BasisPointsPerWhole)
        {
            throw new ArgumentOutOfRangeException(nameof(rateBps), rateBps, "A commission rate is 0 to 10,000 basis points.");
        }

        commission.State.DefaultBps = rateBps;
        return rateBps;
    }
}

internal sealed class CommissionGrainReference(GrainReference<CommissionGrain> grain) : ICommissionGrain
{
    public Task<long> GetDefaultBps() => grain.Read(commission => commission.DefaultBps);

    public Task<long> SetDefaultBps(long rateBps) => grain.Update(commission => commission.SetDefaultBps(rateBps));
}
