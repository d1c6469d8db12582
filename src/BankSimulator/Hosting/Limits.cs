namespace MyPay.BankSimulator.Hosting;

public static class Limits
{
    /// <summary>
    /// Largest request body accepted, in bytes. Default 64 KiB: every request to the bank is a small
    /// JSON object, and a bound keeps a client from making the simulator buffer megabytes.
    /// </summary>
    public const long RequestBodyBytesMax = 64 * 1024;

    public static WebApplicationBuilder AddBankLimits(this WebApplicationBuilder builder)
    {
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.MaxRequestBodySize = RequestBodyBytesMax);
        return builder;
    }

    /// <summary>
    /// Refuses a declared body over the limit before anything reads it. Kestrel enforces the same
    /// limit on bodies of unknown length; this check makes every server (the test host too) answer alike.
    /// </summary>
    public static WebApplication UseBankLimits(this WebApplication app)
    {
        app.Use((context, next) => context.Request.ContentLength > RequestBodyBytesMax
            ? throw new BadHttpRequestException(
                $"The request body of {context.Request.ContentLength} bytes is over the limit of {RequestBodyBytesMax} bytes.",
                StatusCodes.Status413PayloadTooLarge)
            : next(context));
        return app;
    }
}
