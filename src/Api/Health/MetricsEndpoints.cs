using MyPay.Api.Auth;
using MyPay.Grains.Diagnostics;
using MyPay.Silo.Diagnostics;
using MyPay.Silo.Events;
using OpenTelemetry.Metrics;

namespace MyPay.Api.Health;

/// <summary>
/// The node's metrics for Prometheus at <c>/metrics</c> (operators: scrape with an operator's bearer token): MyPay's
/// meters — the store's commits (<c>MyPay.Silo</c>), consumer lag and dead letters (<c>MyPay.Events</c>), money moved
/// by kind and the bank's answers (<c>MyPay.Money</c>) — Orleans' own (<c>Microsoft.Orleans</c>: activations, calls,
/// messaging), ASP.NET Core's (requests, Kestrel's connections), Npgsql's (connections, commands) and the runtime's
/// (<c>System.Runtime</c>: garbage collections and their pause time, the thread pool's queue, lock contention; read when
/// scraped, so free between scrapes).
/// </summary>
public static class MetricsEndpoints
{
    public const string OrleansMeterName = "Microsoft.Orleans";

    /// <summary>The meters of ASP.NET Core's request handling and Kestrel, Npgsql's and the runtime's, as the libraries name them.</summary>
    public static readonly string[] FrameworkMeterNames = ["Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel", "Npgsql", "System.Runtime"];

    public static IServiceCollection AddMyPayMetrics(this IServiceCollection services)
    {
        services.AddOpenTelemetry().WithMetrics(metrics => metrics
            .AddMeter(SiloMetrics.MeterName, OutboxMetrics.MeterName, MoneyMetrics.MeterName, OrleansMeterName)
            .AddMeter(FrameworkMeterNames)
            .AddPrometheusExporter());
        return services;
    }

    public static WebApplication MapMetrics(this WebApplication app)
    {
        app.MapPrometheusScrapingEndpoint().RequireAuthorization(Roles.Operator);
        return app;
    }
}
