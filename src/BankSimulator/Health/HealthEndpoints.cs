namespace MyPay.BankSimulator.Health;

public static class HealthEndpoints
{
    public static WebApplication MapHealth(this WebApplication app)
    {
        // Live: the process serves HTTP. The simulator has nothing else to be ready for.
        app.MapGet("/health/live", () => TypedResults.Ok(new HealthStatus("live")));
        return app;
    }

    public sealed record HealthStatus(string Status);
}
