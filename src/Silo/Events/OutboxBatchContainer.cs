using Orleans;
using Orleans.Providers.Streams.Common;
using Orleans.Runtime;
using Orleans.Streams;

namespace MyPay.Silo.Events;

/// <summary>
/// The events of one stream namespace read from the outbox at once, in commit order, on their way to that namespace's
/// consumers (<see cref="OutboxQueueReceiver"/>): one delivery per consumer for the lot, rather than one per event.
/// </summary>
[GenerateSerializer]
public sealed class OutboxBatchContainer(StreamId streamId, IReadOnlyList<OutboxEvent> events, EventSequenceTokenV2 sequenceToken, OutboxPosition position) : IBatchContainer
{
    [Id(0)]
    public StreamId StreamId { get; } = streamId;

    [Id(1)]
    public IReadOnlyList<OutboxEvent> Events { get; } = events;

    [Id(2)]
    public EventSequenceTokenV2 Token { get; } = sequenceToken;

    /// <summary>
    /// How far the outbox is delivered once this container and every one before it are: the read's last position for
    /// the read's last container, the previous read's last for the others (their read's later events may be in a
    /// container not yet delivered).
    /// </summary>
    [Id(3)]
    public OutboxPosition Position { get; } = position;

    public StreamSequenceToken SequenceToken => Token;

    public IEnumerable<Tuple<T, StreamSequenceToken>> GetEvents<T>() =>
        Events.OfType<T>().Select((item, i) => Tuple.Create(item, (StreamSequenceToken)Token.CreateSequenceTokenForEvent(i)));

    public bool ImportRequestContext() => false;
}

/// <summary>A place in the outbox's commit order: the writing transaction's id, then the row's position in it.</summary>
[GenerateSerializer]
public readonly record struct OutboxPosition([property: Id(0)] ulong Tx, [property: Id(1)] long Position)
{
    public static readonly OutboxPosition Start = new(0, 0);
}
