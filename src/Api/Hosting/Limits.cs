using Microsoft.Net.Http.Headers;

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

    /// <summary>
    /// Refuses a declared body over the limit before anything reads it. Kestrel enforces the same
    /// limit on bodies of unknown length; this check makes every server (the test host too) answer alike.
    /// A body in another charset than UTF-8 is refused too: JSON between systems is UTF-8 (RFC 8259), and the
    /// framework's reader throws on a charset it does not know, which was a 500.
    /// </summary>
    public static WebApplication UseMyPayLimits(this WebApplication app)
    {
        app.Use((context, next) => context.Request.ContentLength > RequestBodyBytesMax
            ? throw new BadHttpRequestException(
                $"The request body of {context.Request.ContentLength} bytes is over the limit of {RequestBodyBytesMax} bytes.",
                StatusCodes.Status413PayloadTooLarge)
            : NotUtf8Charset(context.Request) is { } charset
                ? throw new BadHttpRequestException(
                    $"The request body's charset is '{charset}'; send JSON in UTF-8.", StatusCodes.Status415UnsupportedMediaType)
                : next(context));
        return app;
    }

    /// <summary>The charset the Content-Type names, unless it is UTF-8 or none.</summary>
    private static string? NotUtf8Charset(HttpRequest request) =>
        MediaTypeHeaderValue.TryParse(request.ContentType, out var mediaType)
        && mediaType.Charset.HasValue
        && !mediaType.Charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase)
        && !mediaType.Charset.Equals("utf8", StringComparison.OrdinalIgnoreCase)
            ? mediaType.Charset.Value
            : null;
}
