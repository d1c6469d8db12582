namespace MyPay.Api.Hosting;

public static class Limits
{
    /// <summary>
    /// Largest request body accepted, in bytes. Default 64 KiB: every MyPay request is a small JSON
    /// object, and a bound keeps a client from making the node buffer megabytes.
    /// </summary>
    public const long RequestBodyBytesMax = 64 * 1024;

    public static WebApplicationBuilder AddMyPayLimits(this WebApplicationBuilder builder)
    {
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.MaxRequestBodySize = RequestBodyBytesMax);
        return builder;
    }
}
