using MyPay.Api.Auth;
using MyPay.Api.Hosting;
using MyPay.Api.OpenApi;
using MyPay.Silo.Events;

namespace MyPay.Api.Events;

public static class EventEndpoints
{
    public static WebApplication MapEvents(this WebApplication app)
    {
        app.MapGet("/v1/events/status", StatusAsync).RequireAuthorization(Roles.Operator)
            .WithName("GetEventStatus").WithTags(ApiTags.Events).WithSummary("Consumer lag per outbox reader, and dead letters waiting");
        app.MapGet("/v1/events/dead-letters", ListDeadLettersAsync).RequireAuthorization(Roles.Operator)
            .WithName("ListDeadLetters").WithTags(ApiTags.Events).WithSummary("List the events consumers gave up on, newest first");
        app.MapPost("/v1/events/dead-letters/replay", ReplayAsync).RequireAuthorization(Roles.Operator)
            .WithName("ReplayDeadLetters").WithTags(ApiTags.Events).WithSummary("Hand every dead letter to its consumer again");
        app.MapGet("/v1/events/consumers", ListConsumers).RequireAuthorization(Roles.Operator)
            .WithName("ListConsumers").WithTags(ApiTags.Events).WithSummary("List the outbox's consumers by name");
        app.MapPost("/v1/events/consumers/{consumer}/rewind", RewindAsync).RequireAuthorization(Roles.Operator)
            .WithName("RewindConsumer").WithTags(ApiTags.Events).WithSummary("Hand a consumer again every event from a time on")
            .ProducesProblemFor(StatusCodes.Status400BadRequest, "`invalid-rewind`: `from` is missing or in the future.")
            .ProducesProblemFor(StatusCodes.Status404NotFound, "`consumer-not-found`: no consumer has the name.");
        return app;
    }

    /// <summary>
    /// Consumer lag (operators): per reader of the outbox, the committed events not yet handed to every consumer and
    /// when the oldest of them happened; and the dead letters not replayed yet.
    /// </summary>
    private static async Task<Ok<OutboxStatus>> StatusAsync(OutboxMonitor monitor, CancellationToken cancellationToken) =>
        TypedResults.Ok(await monitor.StatusAsync(cancellationToken));

    /// <summary>
    /// Events a consumer gave up on after its retries, newest first (latest 100; operators): those not replayed yet, or
    /// with <c>?all=true</c> also those replayed. Each with its consumer, the event, the last error and the attempts.
    /// </summary>
    private static async Task<Ok<IReadOnlyList<DeadLetter>>> ListDeadLettersAsync(bool? all, OutboxDeadLetters deadLetters, CancellationToken cancellationToken) =>
        TypedResults.Ok(await deadLetters.ListAsync(pendingOnly: all != true, cancellationToken));

    /// <summary>Hands every dead letter not replayed yet to its consumer again, once its fault is fixed (operators): how many it took, how many failed again.</summary>
    private static async Task<Ok<ReplayOutcome>> ReplayAsync(OutboxDeadLetters deadLetters, OutboxConsumers consumers, CancellationToken cancellationToken) =>
        TypedResults.Ok(await deadLetters.ReplayAsync(consumers, cancellationToken));

    /// <summary>The outbox's consumers by name (operators): the names a rewind and a dead letter use.</summary>
    private static Ok<IReadOnlyList<string>> ListConsumers(OutboxConsumers consumers) => TypedResults.Ok(consumers.Names());

    /// <summary>
    /// Rewinds a consumer (operators): hands it again every committed event from <c>from</c> on, of the streams it
    /// subscribes to, in commit order — to rebuild what it keeps after it was reset. Consumers are idempotent, so events
    /// it applied already change nothing; other consumers are untouched. Answers once every event was handed over.
    /// </summary>
    private static async Task<Results<Ok<RewindOutcome>, ProblemHttpResult>> RewindAsync(
        string consumer, RewindRequest? request, OutboxConsumers consumers, TimeProvider clock, CancellationToken cancellationToken)
    {
        if (!consumers.Exists(consumer))
        {
            return Problems.Problem(
                StatusCodes.Status404NotFound, "consumer-not-found", "No such consumer.",
                $"'{consumer}' is not a consumer of the outbox; GET /v1/events/consumers lists them.");
        }

        if (request?.From is not { } from || from > clock.GetUtcNow())
        {
            return Problems.Problem(
                StatusCodes.Status400BadRequest, "invalid-rewind", "The rewind's starting time is not valid.",
                "Give from as a time not in the future, as in {\"from\": \"2026-12-01T00:00:00+09:00\"}.");
        }

        return TypedResults.Ok(new RewindOutcome(consumer, from, await consumers.RewindAsync(consumer, from, cancellationToken)));
    }

    public sealed record RewindRequest(DateTimeOffset? From);

    /// <summary>What a rewind did: the events handed to the consumer, from when.</summary>
    public sealed record RewindOutcome(string Consumer, DateTimeOffset From, long Events);
}
