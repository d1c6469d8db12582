using System.Text.Json;
using System.Text.Json.Serialization;
using MyPay.Silo.Storage;
using Orleans;
using Orleans.Runtime;

namespace MyPay.Silo.Events;

/// <summary>
/// A domain event in the outbox (<c>outbox_event</c>): appended to a grain's write (<see cref="EventPublishing.Publish"/>),
/// stored in the transaction of the change it tells of, and only if that change commits.
/// </summary>
/// <param name="EventId">Stable: derived from the operation, so a retried operation names the same event.</param>
/// <param name="StreamKey">The producing grain's stream, e.g. <c>wallet:{member}</c>.</param>
/// <param name="Sequence">The event's number in its stream: 1, 2, 3, … with no gap.</param>
/// <param name="Type">What happened, e.g. <c>payment.completed</c>.</param>
/// <param name="Payload">The event's data as a JSON object.</param>
[GenerateSerializer]
public sealed record OutboxEvent(
    [property: Id(0)] string EventId,
    [property: Id(1)] string StreamKey,
    [property: Id(2)] long Sequence,
    [property: Id(3)] string Type,
    [property: Id(4)] string Payload,
    [property: Id(5)] DateTimeOffset OccurredAt)
{
    /// <summary>The Orleans stream the event travels on: the stream key's namespace (before the first colon) and key.</summary>
    public StreamId StreamId
    {
        get
        {
            var colon = StreamKey.IndexOf(':', StringComparison.Ordinal);
            return StreamId.Create(StreamKey[..colon], StreamKey[(colon + 1)..]);
        }
    }
}

/// <summary>A grain state that publishes events: the number of the last event of its stream, stored with the state.</summary>
public interface IPublishingState : IRecordingState
{
    long EventSequence { get; set; }
}

public static class EventPublishing
{
    /// <summary>As the HTTP API writes JSON: camelCase names, enums by name.</summary>
    private static readonly JsonSerializerOptions PayloadOptions = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    /// <summary>
    /// Appends an event to the state's next write, numbered next in the state's stream. The number is part of the state,
    /// so a write that fails takes its events and their numbers with it, and the stream has no gap.
    /// </summary>
    public static OutboxEvent Publish<TPayload>(this IPublishingState state, string streamKey, string eventId, string type, TPayload payload, DateTimeOffset at)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(streamKey);
        if (streamKey.IndexOf(':', StringComparison.Ordinal) is <= 0 || streamKey.EndsWith(':'))
        {
            throw new ArgumentException($"A stream key is a namespace and a key, as in 'wallet:m1'; got '{streamKey}'.", nameof(streamKey));
        }

        ArgumentException.ThrowIfNullOrWhiteSpace(eventId);
        ArgumentException.ThrowIfNullOrWhiteSpace(type);
        state.EventSequence++;
        var published = new OutboxEvent(eventId, streamKey, state.EventSequence, type, JsonSerializer.Serialize(payload, PayloadOptions), at);
        state.Records.Append(published);
        return published;
    }
}
