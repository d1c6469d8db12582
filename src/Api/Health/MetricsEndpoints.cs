using MyPay.Api.Auth;
using MyPay.Silo.Diagnostics;
using MyPay.Silo.Events;
using OpenTelemetry.Metrics;

namespace MyPay.Api.Health;

/// <summary>
/// The node's metrics for Prometheus at <c>/metrics</c> (operators: scrape with an operator's bearer token): MyPay's
/// meters — the store's commits (<c>MyPay.Silo</c>), consumer lag and dead letters (<c>MyPay.Events</c>) — and Orleans'
/// own (<c>Microsoft.Orleans</c>).
/// </summary>
public static class MetricsEndpoints
{
    public const string OrleansMeterName = "Microsoft.Orleans";

    public static IServiceCollection AddMyPayMetrics(this IServiceCollection services)
    {
        services.AddOpenTelemetry().WithMetrics(metrics => metrics
            .AddMeter(SiloMetrics.MeterName, OutboxMetrics.MeterName, OrleansMeterName)
            .AddPrometheusExporter());
        return services;
    }

    public static WebApplication MapMetrics(this WebApplication app)
    {
        app.MapPrometheusScrapingEndpoint().RequireAuthorization(Roles.Operator);
        return app;
    }
}
