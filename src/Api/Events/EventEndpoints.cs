using MyPay.Api.Auth;
using MyPay.Silo.Events;
using Orleans;

namespace MyPay.Api.Events;

public static class EventEndpoints
{
    public static WebApplication MapEvents(this WebApplication app)
    {
        app.MapGet("/v1/events/status", StatusAsync).RequireAuthorization(Roles.Operator);
        app.MapGet("/v1/events/dead-letters", ListDeadLettersAsync).RequireAuthorization(Roles.Operator);
        app.MapPost("/v1/events/dead-letters/replay", ReplayAsync).RequireAuthorization(Roles.Operator);
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
    private static async Task<Ok<ReplayOutcome>> ReplayAsync(OutboxDeadLetters deadLetters, IGrainFactory grains, CancellationToken cancellationToken) =>
        TypedResults.Ok(await deadLetters.ReplayAsync(grains, cancellationToken));
}
