namespace MyPay.BankSimulator.Banks;

public static class BankEndpoints
{
    public static WebApplication MapBanks(this WebApplication app)
    {
        // The codes a client may use, so nobody has to guess them from an unknown-bank problem.
        app.MapGet("/banks", () => TypedResults.Ok(BankDirectory.All));
        return app;
    }
}
