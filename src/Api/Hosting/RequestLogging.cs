using Microsoft.AspNetCore.HttpLogging;

namespace MyPay.Api.Hosting;

/// <summary>
/// The node's logs as structured JSON lines on standard output, each with the trace and span id of the request it
/// belongs to, and one line per request (method, path, status, duration). Nothing that could sign in or move money is
/// logged: no header (a bearer token, an Idempotency-Key), no query string, no body (passwords, account numbers).
/// </summary>
public static class RequestLogging
{
    /// <summary>
    /// The category of the one line per request (ASP.NET Core's HTTP logging), at Information in appsettings.json:
    /// <c>Logging__LogLevel__Microsoft.AspNetCore.HttpLogging.HttpLoggingMiddleware=None</c> turns the lines off.
    /// </summary>
    public const string Category = "Microsoft.AspNetCore.HttpLogging.HttpLoggingMiddleware";

    public static WebApplicationBuilder AddMyPayLogging(this WebApplicationBuilder builder)
    {
        builder.Logging.AddJsonConsole(json =>
        {
            json.IncludeScopes = true;
            json.UseUtcTimestamp = true;
            json.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
        });
        builder.Logging.Configure(logging => logging.ActivityTrackingOptions = ActivityTrackingOptions.TraceId | ActivityTrackingOptions.SpanId);
        builder.Services.AddHttpLogging(http =>
        {
            http.LoggingFields = HttpLoggingFields.RequestMethod | HttpLoggingFields.RequestPath | HttpLoggingFields.ResponseStatusCode | HttpLoggingFields.Duration;
            http.CombineLogs = true;
        });
        return builder;
    }

    public static WebApplication UseMyPayLogging(this WebApplication app)
    {
        app.UseHttpLogging();
        return app;
    }
}
