using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;
using MyPay.Silo.Grains;
using Orleans.Runtime;

namespace MyPay.Api.Hosting;

/// <summary>
/// Every error is <c>application/problem+json</c> with a stable <c>type</c>: unknown routes, bad JSON,
/// business rejections and infrastructure faults alike.
/// </summary>
public static class Problems
{
    public const string TypeBase = "https://mypay.example/problems/";

    public static IServiceCollection AddMyPayProblems(this IServiceCollection services)
    {
        services.AddProblemDetails(options => options.CustomizeProblemDetails = context =>
        {
            context.ProblemDetails.Extensions.TryAdd("traceId", context.HttpContext.TraceIdentifier);
            GiveMyPaysType(context.ProblemDetails);
        });
        services.AddSingleton<IProblemDetailsWriter, JsonProblemWriter>();
        services.AddExceptionHandler<InfrastructureExceptionHandler>();

        // Binding failures (malformed JSON, a missing body) throw, so the handler below can say what was wrong.
        services.Configure<RouteHandlerOptions>(options => options.ThrowOnBadRequest = true);

        // Amounts are JSON numbers: "10000" as a string is a client error, not a number to guess at. A property given
        // twice ({"amount":1000,"amount":3000}) is refused too: which one the client meant is unknowable, and
        // last-one-wins would move the amount a reader of the body's start did not see.
        services.ConfigureHttpJsonOptions(options =>
        {
            options.SerializerOptions.NumberHandling = JsonNumberHandling.Strict;
            options.SerializerOptions.AllowDuplicateProperties = false;
            options.SerializerOptions.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower));
        });
        return services;
    }

    public static WebApplication UseMyPayProblems(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        return app;
    }

    /// <summary>
    /// The stable type and title of a refusal made before any MyPay handler runs (authentication, routing, reading
    /// the body), by status; the framework would otherwise point the type at a section of the HTTP RFC.
    /// </summary>
    private static (string Type, string Title) FrameworkProblem(int status) => status switch
    {
        StatusCodes.Status400BadRequest => ("bad-request", "The request could not be read."),
        StatusCodes.Status401Unauthorized => ("unauthenticated", "A valid bearer token is required; get one from POST /v1/auth/token."),
        StatusCodes.Status403Forbidden => ("forbidden", "The token does not allow this request."),
        StatusCodes.Status404NotFound => ("not-found", "No such resource."),
        StatusCodes.Status405MethodNotAllowed => ("method-not-allowed", "The resource does not take this method."),
        StatusCodes.Status406NotAcceptable => ("not-acceptable", "MyPay answers in JSON only."),
        StatusCodes.Status411LengthRequired => ("length-required", "The request needs a Content-Length."),
        StatusCodes.Status413PayloadTooLarge => ("body-too-large", $"The request body is over the limit of {Limits.RequestBodyBytesMax} bytes."),
        StatusCodes.Status415UnsupportedMediaType => ("unsupported-media-type", "The request body must be JSON (Content-Type: application/json)."),
        StatusCodes.Status431RequestHeaderFieldsTooLarge => ("headers-too-large", "The request headers are too large."),
        StatusCodes.Status500InternalServerError => ("internal-error", "MyPay failed to answer; the fault is logged."),
        _ => ($"http-{status}", ReasonPhrases.GetReasonPhrase(status)),
    };

    /// <summary>Replaces a framework default type (or none) with MyPay's; problems MyPay wrote itself keep theirs.</summary>
    private static void GiveMyPaysType(ProblemDetails problem)
    {
        if (problem.Type?.StartsWith(TypeBase, StringComparison.Ordinal) == true || problem.Status is not { } status)
        {
            return;
        }

        (var type, problem.Title) = FrameworkProblem(status);
        problem.Type = TypeBase + type;
    }

    /// <summary>
    /// What was wrong with a request that could not be read, in MyPay's words: the framework's own message names the
    /// handler's parameter and its C# type, which tells a client nothing it can act on.
    /// </summary>
    private static string ReadFailure(BadHttpRequestException exception, HttpRequest request) => exception switch
    {
        { InnerException: JsonException json } =>
            $"The JSON body could not be read at {json.Path ?? "$"} (line {json.LineNumber + 1}, byte {json.BytePositionInLine}): a value of the wrong type or out of range, a property given twice, or malformed JSON.",
        { StatusCode: StatusCodes.Status415UnsupportedMediaType } when request.HasJsonContentType() => exception.Message,
        { StatusCode: StatusCodes.Status415UnsupportedMediaType } => "Send the body as JSON, with Content-Type: application/json.",
        { StatusCode: StatusCodes.Status400BadRequest } when request.ContentLength == 0 || (request.ContentLength is null && request.Headers.TransferEncoding.Count == 0) =>
            "The request needs a JSON body.",
        _ => exception.Message,
    };

    /// <summary>A problem response with its stable type, for a business rejection.</summary>
    public static ProblemHttpResult Problem(int status, string type, string title, string detail) =>
        TypedResults.Problem(detail, statusCode: status, title: title, type: TypeBase + type);

    /// <summary>
    /// Writes a problem as JSON whatever the request's Accept header asks for: MyPay answers in JSON only, and the
    /// framework's writer declines "Accept: text/html", which left a plain-text or empty refusal. Registered after
    /// the framework's writer, it writes only what that one declines.
    /// </summary>
    private sealed class JsonProblemWriter(IOptions<ProblemDetailsOptions> options, IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json) : IProblemDetailsWriter
    {
        public bool CanWrite(ProblemDetailsContext context) => true;

        public ValueTask WriteAsync(ProblemDetailsContext context)
        {
            var problem = context.ProblemDetails;
            problem.Status ??= context.HttpContext.Response.StatusCode;
            options.Value.CustomizeProblemDetails?.Invoke(context);
            return new ValueTask(context.HttpContext.Response.WriteAsJsonAsync(problem, problem.GetType(), json.Value.SerializerOptions, "application/problem+json"));
        }
    }

    /// <summary>
    /// Maps faults outside the request's control to their status: the database being unreachable or behind (the
    /// store's queue full), a grain being overloaded, a grain call timing out, or the silo holding a grain being
    /// unreachable is a 503 the client may retry (with the same idempotency key) after <c>Retry-After</c> seconds; a lost
    /// version race after bounded retries is a 409. A request body past the size limit or a malformed body is the client's
    /// 4xx. Anything else is a bug and stays a 500.
    /// </summary>
    private sealed class InfrastructureExceptionHandler(IProblemDetailsService problems) : IExceptionHandler
    {
        public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
        {
            (int Status, string Type, string Title)? problem = exception switch
            {
                _ when Outages.IsDatabaseUnavailable(exception) => (StatusCodes.Status503ServiceUnavailable, "storage-unavailable", "The database is unavailable; retry later with the same Idempotency-Key."),
                GrainOverloadedException => (StatusCodes.Status503ServiceUnavailable, "overloaded", "Too many requests for this resource; retry later with the same Idempotency-Key."),
                _ when Outages.Beneath<StorageOverloadedException>(exception) => (StatusCodes.Status503ServiceUnavailable, "storage-overloaded", "Too many writes are waiting for the database; retry later with the same Idempotency-Key."),

                // A grain call that got no answer within the silo's response timeout (MYPAY_GRAIN_CALL_TIMEOUT): the grain
                // may still be working on it, so whether it took effect is unknown; a retry with the same key applies it once.
                TimeoutException => (StatusCodes.Status503ServiceUnavailable, "timeout", "The request took too long; retry later with the same Idempotency-Key."),

                // A call to a grain on another node that died: Orleans refuses the message until the cluster declares
                // that silo dead (after its missed probes, some seconds) and the grain activates on a live one. Whether
                // the call ran there is unknown; a retry with the same key applies it once either way.
                OrleansMessageRejectionException => (StatusCodes.Status503ServiceUnavailable, "node-unavailable", "A node of the cluster is unreachable; retry later with the same Idempotency-Key."),
                StateConflictException => (StatusCodes.Status409Conflict, "concurrent-update", "The resource was changed concurrently; retry with the same Idempotency-Key."),
                BadHttpRequestException bad when FrameworkProblem(bad.StatusCode) is var (type, title) => (bad.StatusCode, type, title),
                _ => null,
            };
            if (problem is not { } found)
            {
                return false;
            }

            httpContext.Response.StatusCode = found.Status;
            if (found.Status == StatusCodes.Status503ServiceUnavailable)
            {
                httpContext.Response.Headers.RetryAfter = "1";
            }

            return await problems.TryWriteAsync(new ProblemDetailsContext
            {
                HttpContext = httpContext,
                Exception = exception,
                ProblemDetails =
                {
                    Status = found.Status,
                    Type = TypeBase + found.Type,
                    Title = found.Title,
                    Detail = exception is BadHttpRequestException unreadable ? ReadFailure(unreadable, httpContext.Request) : null,
                },
            });
        }
    }
}
