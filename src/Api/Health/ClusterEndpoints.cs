using MyPay.Api.Auth;
using MyPay.Api.OpenApi;
using Orleans.Runtime;
using IGrainFactory = Orleans.IGrainFactory;

namespace MyPay.Api.Health;

public static class ClusterEndpoints
{
    public static WebApplication MapCluster(this WebApplication app)
    {
        app.MapGet("/v1/cluster", ListSilosAsync).RequireAuthorization(Roles.Operator)
            .WithName("GetCluster").WithTags(ApiTags.Cluster).WithSummary("The cluster's silos: address, status and activations");
        return app;
    }

    /// <summary>
    /// The silos of this node's cluster as its membership table has them (operators): each generation of each silo, the
    /// active ones first, with its address, status (<c>active</c>, <c>joining</c>, <c>shuttingdown</c>, <c>dead</c>, …),
    /// when it started and last said it was alive, and, for an active silo, its activations now. <c>thisNode</c> marks
    /// the silo of the node that answered.
    /// </summary>
    private static async Task<Ok<ClusterResponse>> ListSilosAsync(IGrainFactory grains, ILocalSiloDetails local)
    {
        var management = grains.GetGrain<IManagementGrain>(0);
        var members = await management.GetDetailedHosts(onlyActive: false);
        SiloAddress[] active = [.. members.Where(member => member.Status == SiloStatus.Active).Select(member => member.SiloAddress)];
        var statistics = active.Length == 0 ? [] : await management.GetRuntimeStatistics(active);
        var activations = active.Zip(statistics, (silo, runtime) => (silo, runtime.ActivationCount)).ToDictionary(pair => pair.silo, pair => pair.ActivationCount);
        var silos = members
            .OrderBy(member => member.Status == SiloStatus.Active ? 0 : 1)
            .ThenByDescending(member => member.StartTime)
            .Select(member => new SiloResponse(
                member.SiloAddress.Endpoint.ToString(),
                member.SiloAddress.Generation,
                member.SiloName,
                member.Status.ToString().ToLowerInvariant(),
                new DateTimeOffset(member.StartTime, TimeSpan.Zero),
                new DateTimeOffset(member.IAmAliveTime, TimeSpan.Zero),
                activations.TryGetValue(member.SiloAddress, out var count) ? count : null,
                member.SiloAddress.Equals(local.SiloAddress)))
            .ToArray();
        return TypedResults.Ok(new ClusterResponse(local.ClusterId, silos.Count(silo => silo.Status == "active"), silos));
    }

    public sealed record ClusterResponse(string ClusterId, int ActiveSilos, SiloResponse[] Silos);

    /// <summary>One silo generation: <c>activations</c> is null unless it is active.</summary>
    public sealed record SiloResponse(
        string Address, int Generation, string Name, string Status, DateTimeOffset StartedAt, DateTimeOffset LastAliveAt, int? Activations, bool ThisNode);
}
