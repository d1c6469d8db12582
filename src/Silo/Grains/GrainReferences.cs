using MyPay.Silo.Caching;
using Orleans;
using Orleans.Runtime;

namespace MyPay.Silo.Grains;

/// <summary>
/// Grain references made once and kept, for the paths every request takes. Orleans' <c>GetGrain</c> resolves the
/// interface's grain type by reflection and builds a new proxy, with its codecs, on every call: 8% of a node's CPU
/// under the pay load (<c>BENCH_CALLGRAPH=1 bench/run profile pay</c>, 2026-12-02). A reference is immutable and
/// serves any caller, inside a grain or not, so one per grain is enough. At most <see cref="CountMax"/> are kept:
/// past that the cache starts over, so a node that meets millions of members holds no more than a few megabytes.
/// </summary>
public sealed class GrainReferences(IGrainFactory factory)
{
    /// <summary>References kept before the cache starts over; each is a few hundred bytes.</summary>
    public const int CountMax = 16_384;

    private readonly BoundedCache<(Type Interface, string Key), IAddressable> kept = new(CountMax);

    /// <summary>Orleans' factory, for a grain asked once under a fresh key (a new request's id), which is not worth keeping.</summary>
    public IGrainFactory Factory => factory;

    /// <summary>The reference to the grain of <typeparamref name="TGrain"/> with <paramref name="key"/>, as <c>GetGrain</c> gives it.</summary>
    public TGrain Get<TGrain>(string key)
        where TGrain : IGrainWithStringKey
    {
        if (kept.TryGet((typeof(TGrain), key), out var reference))
        {
            return (TGrain)reference;
        }

        var made = factory.GetGrain<TGrain>(key);
        kept.Add((typeof(TGrain), key), made);
        return made;
    }
}
