using MyPay.Api.Hosting;
using MyPay.Api.OpenApi;
using MyPay.Silo.Hosting;

namespace MyPay.Api.Health;

public static class HealthEndpoints
{
    public static WebApplication MapHealth(this WebApplication app)
    {
        var health = app.MapGroup("/health").WithTags(ApiTags.Health);

        // Live: the process serves HTTP. Never depends on the database, so a database outage does not get the node restarted.
        health.MapGet("/live", () => TypedResults.Ok(new HealthStatus("live")))
            .WithName("Live").WithSummary("The node serves HTTP");

        // Ready: the database is reachable and migrated, so money endpoints can work.
        health.MapGet("/ready", async Task<Results<Ok<HealthStatus>, ProblemHttpResult>> (IStorageHealth storage, CancellationToken cancellationToken) =>
            await storage.CheckAsync(cancellationToken) is { } reason
                ? Problems.Problem(StatusCodes.Status503ServiceUnavailable, "not-ready", "Not ready.", reason)
                : TypedResults.Ok(new HealthStatus("ready")))
            .WithName("Ready").WithSummary("The node's database is reachable and migrated")
            .ProducesProblemFor(StatusCodes.Status503ServiceUnavailable, "`not-ready`: the database is unreachable or not migrated yet.");
        return app;
    }

    public sealed record HealthStatus(string Status);
}
