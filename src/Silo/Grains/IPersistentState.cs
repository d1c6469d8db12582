namespace MyPay.Silo.Grains;

/// <summary>
/// A grain's durable state, loaded before the grain's first turn. Mirrors Orleans'
/// <c>IPersistentState&lt;T&gt;</c>: <see cref="State"/> is the grain's to change, and a write is
/// conditional on the version that was read.
/// </summary>
public interface IPersistentState<TState>
    where TState : class
{
    /// <summary>The grain's state. A new grain starts with <c>new TState()</c>.</summary>
    TState State { get; set; }

    /// <summary>The stored version: 0 before the first write, then 1, 2, ... one per committed write.</summary>
    long Version { get; }

    /// <summary>Whether a row exists in storage for this grain.</summary>
    bool RecordExists { get; }

    /// <summary>
    /// Writes <see cref="State"/> conditionally on <see cref="Version"/>. Throws
    /// <see cref="StateConflictException"/> when another writer got there first; the state is then
    /// reloaded before the grain's next turn. Only for turns started with
    /// <see cref="GrainReference{TGrain}.Call{TResult}"/>: command turns are written by the runtime.
    /// </summary>
    Task WriteStateAsync();

    /// <summary>
    /// Adds a record (a journal entry, an event for others) to be written in the same transaction as the
    /// state's next write, by the record writer registered for its type. If that write does not commit,
    /// the record is dropped with it: a command re-applied after a conflict appends its records again.
    /// </summary>
    void Append(object record);
}
