namespace MyPay.Api.Hosting;

/// <summary>
/// A trivial JSON POST endpoint, mapped only when <c>MYPAY_BENCH_ECHO</c> is true: the benchmark's measure of
/// what Kestrel and minimal APIs alone reach on this machine, under the same client as the money endpoints.
/// </summary>
public static class BenchEndpoints
{
    public const string EnabledVariable = "MYPAY_BENCH_ECHO";

    public static WebApplication MapBench(this WebApplication app)
    {
        if (app.Configuration.GetValue<bool>(EnabledVariable))
        {
            app.MapPost("/bench/echo", (EchoBody body) => TypedResults.Ok(body));
        }

        return app;
    }

    public sealed record EchoBody(long Amount);
}
