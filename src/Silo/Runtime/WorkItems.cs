using System.Diagnostics;
using MyPay.Silo.Diagnostics;
using MyPay.Silo.Grains;
using MyPay.Silo.Storage;

namespace MyPay.Silo.Runtime;

/// <summary>A message in an activation's mailbox. Completing it records the call's metrics.</summary>
internal abstract class WorkItem<TGrain>(string grainType, string method)
    where TGrain : class
{
    private readonly long enqueuedAt = Stopwatch.GetTimestamp();

    protected void Record(string outcome)
    {
        SiloMetrics.Calls.Add(1, SiloMetrics.CallTags(grainType, method, outcome));
        SiloMetrics.CallDuration.Record(Stopwatch.GetElapsedTime(enqueuedAt).TotalMilliseconds, SiloMetrics.CallTags(grainType, method, outcome));
    }

    public abstract TurnKind Kind { get; }

    public abstract void Fail(Exception exception);
}

/// <summary>What a message's turn is: turns take one call, or a run of messages of one kind.</summary>
internal enum TurnKind
{
    Read,
    Command,
    Call,
}

/// <summary>A read-only query: runs against in-memory state, changes nothing, never written.</summary>
internal abstract class ReadItem<TGrain>(string grainType, string method) : WorkItem<TGrain>(grainType, method)
    where TGrain : class
{
    public override TurnKind Kind => TurnKind.Read;

    public abstract void Run(TGrain grain);
}

/// <summary>
/// A synchronous command: it changes in-memory state and returns a result, and the runtime writes the
/// state once for all the commands of a turn. It may be applied more than once (after a conflict, on
/// reloaded state), so it must be a function of the state and its arguments only.
/// </summary>
internal abstract class CommandItem<TGrain>(string grainType, string method, OperationKey? operation) : WorkItem<TGrain>(grainType, method)
    where TGrain : class
{
    public override TurnKind Kind => TurnKind.Command;

    public OperationKey? Operation { get; } = operation;

    /// <summary>The exception of the last application, if it threw.</summary>
    public Exception? Error { get; protected set; }

    public abstract void Apply(TGrain grain);

    public abstract byte[] SerializeResult();

    /// <summary>Answers the caller with the last application's result or exception.</summary>
    public abstract void Complete();

    /// <summary>Answers the caller with the result recorded the first time this operation key was used.</summary>
    public abstract void CompleteFromRecord(GrainId grain, StoredOperation recorded);
}

/// <summary>An asynchronous turn: may await other grains and services, and writes state itself.</summary>
internal abstract class CallItem<TGrain>(string grainType, string method) : WorkItem<TGrain>(grainType, method)
    where TGrain : class
{
    public override TurnKind Kind => TurnKind.Call;

    /// <summary>Runs the turn; false when it threw (the caller already has the exception).</summary>
    public abstract Task<bool> RunAsync(TGrain grain);
}

internal sealed class ReadItem<TGrain, TResult>(string grainType, string method, Func<TGrain, TResult> query)
    : ReadItem<TGrain>(grainType, method)
    where TGrain : class
{
    public TaskCompletionSource<TResult> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public override void Run(TGrain grain)
    {
        try
        {
            Completion.SetResult(query(grain));
            Record("ok");
        }
        catch (Exception exception)
        {
            Fail(exception);
        }
    }

    public override void Fail(Exception exception)
    {
        if (Completion.TrySetException(exception))
        {
            Record(exception.GetType().Name);
        }
    }
}

internal sealed class CommandItem<TGrain, TResult>(string grainType, string method, OperationKey? operation, Func<TGrain, TResult> command)
    : CommandItem<TGrain>(grainType, method, operation)
    where TGrain : class
{
    private TResult? result;

    public TaskCompletionSource<TResult> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public override void Apply(TGrain grain)
    {
        try
        {
            result = command(grain);
            Error = null;
        }
        catch (Exception exception)
        {
            result = default;
            Error = exception;
        }
    }

    public override byte[] SerializeResult() => StateSerializer.Serialize(result);

    public override void Complete()
    {
        if (Error is not null)
        {
            Fail(Error);
            return;
        }

        Completion.SetResult(result!);
        Record("ok");
    }

    public override void CompleteFromRecord(GrainId grain, StoredOperation recorded)
    {
        if (Operation is null || recorded.RequestHash != Operation.RequestHash)
        {
            Fail(new OperationKeyReusedException(grain, Operation?.Id ?? ""));
            return;
        }

        Completion.SetResult(StateSerializer.Deserialize<TResult>(recorded.Result));
        Record("replayed");
    }

    public override void Fail(Exception exception)
    {
        if (Completion.TrySetException(exception))
        {
            Record(exception.GetType().Name);
        }
    }
}

internal sealed class CallItem<TGrain, TResult>(string grainType, string method, Func<TGrain, Task<TResult>> turn)
    : CallItem<TGrain>(grainType, method)
    where TGrain : class
{
    public TaskCompletionSource<TResult> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public override async Task<bool> RunAsync(TGrain grain)
    {
        try
        {
            Completion.SetResult(await turn(grain));
            Record("ok");
            return true;
        }
        catch (Exception exception)
        {
            Fail(exception);
            return false;
        }
    }

    public override void Fail(Exception exception)
    {
        if (Completion.TrySetException(exception))
        {
            Record(exception.GetType().Name);
        }
    }
}
