using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Diagnostics;
using MyPay.Silo.Grains;
using MyPay.Silo.Storage.Postgres;
using Npgsql;
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
            context.ProblemDetails.Extensions.TryAdd("traceId", context.HttpContext.TraceIdentifier));
        services.AddExceptionHandler<InfrastructureExceptionHandler>();

        // Binding failures (malformed JSON, a missing body) throw, so the handler below can say what was wrong.
        services.Configure<RouteHandlerOptions>(options => options.ThrowOnBadRequest = true);

        // Amounts are JSON numbers: "10000" as a string is a client error, not a number to guess at.
        services.ConfigureHttpJsonOptions(options =>
        {
            options.SerializerOptions.NumberHandling = JsonNumberHandling.Strict;
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

    /// <summary>A problem response with its stable type, for a business rejection.</summary>
    public static ProblemHttpResult Problem(int status, string type, string title, string detail) =>
        TypedResults.Problem(detail, statusCode: status, title: title, type: TypeBase + type);

    /// <summary>
    /// Maps faults outside the request's control to their status: the database being unreachable or behind (the
    /// store's queue full), a grain being overloaded, a grain call timing out, or the silo holding a grain being
    /// unreachable is a 503 the client may retry (with the same idempotency key) after <c>Retry-After</c> seconds; a lost
    /// version race after bounded retries is a 409. A request body past the size limit or a malformed body is the client's
    /// 4xx. Anything else is a bug and stays a 500.
    /// </summary>
    private sealed class InfrastructureExceptionHandler(IProblemDetailsService problems) : IExceptionHandler
    {
        /// <summary>
        /// The database could not be reached, here or anywhere beneath: grain storage says so itself, while Orleans'
        /// reminder table (a recharge arms its reminder before anything else) lets the driver's exception through, wrapped.
        /// </summary>
        private static bool IsDatabaseUnavailable(Exception exception) =>
            exception is StorageUnavailableException
            || (exception is NpgsqlException && PostgresGrainStorage.IsUnavailable(exception))
            || (exception.InnerException is { } inner && IsDatabaseUnavailable(inner));

        /// <summary>Whether <paramref name="exception"/> is a <typeparamref name="TException"/>, or wraps one.</summary>
        private static bool Beneath<TException>(Exception? exception)
            where TException : Exception =>
            exception is TException || (exception?.InnerException is { } inner && Beneath<TException>(inner));

        public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
        {
            (int Status, string Type, string Title)? problem = exception switch
            {
                _ when IsDatabaseUnavailable(exception) => (StatusCodes.Status503ServiceUnavailable, "storage-unavailable", "The database is unavailable; retry later with the same Idempotency-Key."),
                GrainOverloadedException => (StatusCodes.Status503ServiceUnavailable, "overloaded", "Too many requests for this resource; retry later with the same Idempotency-Key."),
                _ when Beneath<StorageOverloadedException>(exception) => (StatusCodes.Status503ServiceUnavailable, "storage-overloaded", "Too many writes are waiting for the database; retry later with the same Idempotency-Key."),

                // A grain call that got no answer within the silo's response timeout (MYPAY_GRAIN_CALL_TIMEOUT): the grain
                // may still be working on it, so whether it took effect is unknown; a retry with the same key applies it once.
                TimeoutException => (StatusCodes.Status503ServiceUnavailable, "timeout", "The request took too long; retry later with the same Idempotency-Key."),

                // A call to a grain on another node that died: Orleans refuses the message until the cluster declares
                // that silo dead (after its missed probes, some seconds) and the grain activates on a live one. Whether
                // the call ran there is unknown; a retry with the same key applies it once either way.
                OrleansMessageRejectionException => (StatusCodes.Status503ServiceUnavailable, "node-unavailable", "A node of the cluster is unreachable; retry later with the same Idempotency-Key."),
                StateConflictException => (StatusCodes.Status409Conflict, "concurrent-update", "The resource was changed concurrently; retry with the same Idempotency-Key."),
                BadHttpRequestException bad => (bad.StatusCode, "bad-request", "The request could not be read."),
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
                    Detail = exception is BadHttpRequestException ? exception.Message : null,
                },
            });
        }
    }
}
