using System.Runtime.CompilerServices;
using MyPay.Silo.Runtime;

namespace MyPay.Silo.Grains;

/// <summary>
/// A typed handle on one grain, used by a grain interface's reference class to forward each method
/// as a message. Cheap to create: it holds the grain's catalog and key and finds (or activates) the
/// grain on each call. In-process calls pass the delegate and its arguments as they are: no
/// serialization, no reflection.
/// </summary>
public sealed class GrainReference<TGrain>
    where TGrain : class
{
    private readonly GrainCatalog<TGrain> catalog;

    internal GrainReference(GrainCatalog<TGrain> catalog, string key)
    {
        this.catalog = catalog;
        Id = new GrainId(catalog.TypeName, key);
    }

    public GrainId Id { get; }

    /// <summary>
    /// A read-only query on the grain's in-memory state. Queries queued back to back run in one turn;
    /// they never overlap a command or call.
    /// </summary>
    public Task<TResult> Read<TResult>(Func<TGrain, TResult> query, [CallerMemberName] string method = "")
    {
        var item = new ReadItem<TGrain, TResult>(Id.Type, method, query);
        catalog.Send(Id.Key, item);
        return item.Completion.Task;
    }

    /// <summary>
    /// A command: a synchronous change of state returning a result. The runtime drains queued commands
    /// into one turn, writes the state once, and answers each caller after the write commits. After a
    /// version conflict the commands are applied again to the reloaded state, so a command must depend
    /// on the state and its arguments only. With an <paramref name="operation"/> key the command takes
    /// effect at most once; a repeat returns the first result.
    /// </summary>
    public Task<TResult> Update<TResult>(Func<TGrain, TResult> command, OperationKey? operation = null, [CallerMemberName] string method = "")
    {
        if (operation is not null && (operation.Id.Length is 0 or > OperationKey.IdLengthMax))
        {
            throw new ArgumentException($"An operation key must be 1 to {OperationKey.IdLengthMax} characters; got {operation.Id.Length}.", nameof(operation));
        }

        var item = new CommandItem<TGrain, TResult>(Id.Type, method, operation, command);
        catalog.Send(Id.Key, item);
        return item.Completion.Task;
    }

    /// <summary>
    /// An asynchronous turn, for work that awaits something (another grain, a bank). No other message
    /// of this grain runs until it completes. The grain writes its state itself through
    /// <see cref="IPersistentState{TState}.WriteStateAsync"/>.
    /// </summary>
    public Task<TResult> Call<TResult>(Func<TGrain, Task<TResult>> turn, [CallerMemberName] string method = "")
    {
        var item = new CallItem<TGrain, TResult>(Id.Type, method, turn);
        catalog.Send(Id.Key, item);
        return item.Completion.Task;
    }
}
