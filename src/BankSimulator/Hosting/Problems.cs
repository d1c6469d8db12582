using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Diagnostics;

namespace MyPay.BankSimulator.Hosting;

/// <summary>
/// Every error is <c>application/problem+json</c> with a stable <c>type</c>: unknown routes, unreadable
/// bodies, invalid fields and bank-side rejections alike. A client branches on <c>type</c>, never on
/// <c>title</c> or <c>detail</c>, which are for people.
/// </summary>
public static class Problems
{
    public const string TypeBase = "https://bank-simulator.mypay.example/problems/";

    public static IServiceCollection AddBankProblems(this IServiceCollection services)
    {
        services.AddProblemDetails(options => options.CustomizeProblemDetails = context =>
        {
            context.ProblemDetails.Extensions.TryAdd("traceId", context.HttpContext.TraceIdentifier);

            // Problems the framework writes itself (an unknown route, a wrong method or media type, a
            // crash) carry an RFC link as their type; give them a stable type of ours like every other.
            if (context.ProblemDetails.Type?.StartsWith(TypeBase, StringComparison.Ordinal) != true)
            {
                context.ProblemDetails.Type = TypeBase + FrameworkType(context.ProblemDetails.Status ?? context.HttpContext.Response.StatusCode);
            }
        });
        services.AddExceptionHandler<BadRequestExceptionHandler>();

        // Binding failures (malformed JSON, a missing body) throw, so the handler below can say what was wrong.
        services.Configure<RouteHandlerOptions>(options => options.ThrowOnBadRequest = true);

        services.ConfigureHttpJsonOptions(options =>
        {
            // Amounts are JSON numbers: "10000" as a string is a client error, not a number to guess at.
            options.SerializerOptions.NumberHandling = JsonNumberHandling.Strict;

            // Statuses and reasons travel as "open", "insufficient-funds"; a bare 1 is not a status.
            options.SerializerOptions.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower, allowIntegerValues: false));
        });
        return services;
    }

    public static WebApplication UseBankProblems(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        return app;
    }

    /// <summary>A problem response with its stable type, for a rejection a client can act on.</summary>
    public static ProblemHttpResult Problem(int status, string type, string title, string detail) =>
        TypedResults.Problem(detail, statusCode: status, title: title, type: TypeBase + type);

    /// <summary>
    /// A 400 naming every invalid field (keys are JSON paths such as <c>from.bankCode</c>), so a client
    /// fixes them all at once.
    /// </summary>
    public static ValidationProblem Invalid(IDictionary<string, string[]> errors) => TypedResults.ValidationProblem(
        errors,
        detail: $"{errors.Count} field(s) are not valid: {string.Join(", ", errors.Keys)}.",
        title: "The request is not valid.",
        type: TypeBase + "invalid-request");

    public static ProblemHttpResult UnknownBank(string bankCode) => Problem(
        StatusCodes.Status404NotFound,
        "unknown-bank",
        "No bank has this code.",
        $"Bank code '{bankCode}' is not a bank of this network; GET /banks lists the codes.");

    private static string FrameworkType(int status) => status switch
    {
        StatusCodes.Status404NotFound => "unknown-route",
        StatusCodes.Status405MethodNotAllowed => "method-not-allowed",
        StatusCodes.Status413PayloadTooLarge => "request-too-large",
        StatusCodes.Status415UnsupportedMediaType => "unsupported-media-type",
        >= 500 => "internal-error",
        _ => "bad-request",
    };

    /// <summary>
    /// Maps a request the framework could not read (malformed JSON, a string where a number belongs, a
    /// missing body, the wrong content type, a body over the size limit) to its 4xx status with a detail
    /// saying what was wrong. Anything else is a bug and stays a 500.
    /// </summary>
    private sealed class BadRequestExceptionHandler(IProblemDetailsService problems) : IExceptionHandler
    {
        public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
        {
            if (exception is not BadHttpRequestException badRequest)
            {
                return false;
            }

            var type = badRequest.StatusCode == StatusCodes.Status400BadRequest ? "malformed-request" : FrameworkType(badRequest.StatusCode);
            httpContext.Response.StatusCode = badRequest.StatusCode;
            return await problems.TryWriteAsync(new ProblemDetailsContext
            {
                HttpContext = httpContext,
                Exception = exception,
                ProblemDetails =
                {
                    Status = badRequest.StatusCode,
                    Type = TypeBase + type,
                    Title = "The request could not be read.",
                    Detail = Describe(badRequest),
                },
            });
        }

        /// <summary>
        /// Says where the body went wrong (the JSON path) and how: the framework's own message names only
        /// the handler's parameter, and the serializer's names .NET types a client has never seen.
        /// </summary>
        private static string Describe(BadHttpRequestException badRequest)
        {
            if (badRequest.InnerException is not JsonException json)
            {
                return badRequest.Message;
            }

            return json.Message.StartsWith("The JSON value could not be converted", StringComparison.Ordinal)
                ? $"The value at {json.Path ?? "$"} has the wrong type. Amounts, balances, rates and latencies are JSON numbers, "
                    + "not strings; statuses are \"open\" or \"closed\"; accounts are objects with bankCode and accountNumber."
                : $"The body is not valid JSON: {json.Message}";
        }
    }
}
