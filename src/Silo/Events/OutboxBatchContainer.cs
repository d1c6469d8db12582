using Orleans;
using Orleans.Runtime;
using Orleans.Streams;

namespace MyPay.Silo.Events;

/// <summary>One outbox event on its way to a stream's consumers, with its place in the outbox's commit order.</summary>
[GenerateSerializer]
public sealed class OutboxBatchContainer(StreamId streamId, OutboxEvent @event, StreamSequenceToken sequenceToken, OutboxPosition position) : IBatchContainer
{
    [Id(0)]
    public StreamId StreamId { get; } = streamId;

    [Id(1)]
    public OutboxEvent Event { get; } = @event;

    [Id(2)]
    public StreamSequenceToken SequenceToken { get; } = sequenceToken;

    /// <summary>Where the event stands in the outbox: the reader's checkpoint once it is delivered.</summary>
    [Id(3)]
    public OutboxPosition Position { get; } = position;

    public IEnumerable<Tuple<T, StreamSequenceToken>> GetEvents<T>() =>
        Event is T item ? [Tuple.Create(item, SequenceToken)] : [];

    public bool ImportRequestContext() => false;
}

/// <summary>A place in the outbox's commit order: the writing transaction's id, then the row's position in it.</summary>
[GenerateSerializer]
public readonly record struct OutboxPosition([property: Id(0)] ulong Tx, [property: Id(1)] long Position)
{
    public static readonly OutboxPosition Start = new(0, 0);
}
