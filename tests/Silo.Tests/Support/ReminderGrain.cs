using System.Collections.Concurrent;
using MyPay.Silo.Grains;
using MyPay.Silo.Reminders;

namespace MyPay.Silo.Tests.Support;

/// <summary>A test grain that sets and clears durable reminders through its state writes, and reports its ticks to a <see cref="ReminderProbe"/>.</summary>
public interface IReminderGrain
{
    GrainId Id { get; }

    /// <summary>A command that sets reminder <paramref name="name"/>; <paramref name="onTick"/> is what the grain's handler does on its next tick.</summary>
    Task<long> SetReminder(string name, DateTimeOffset dueAt, TimeSpan? period = null, TickAction onTick = TickAction.None);

    /// <summary>A command that sets a reminder, then throws.</summary>
    Task<long> SetReminderThenThrow(string name, DateTimeOffset dueAt);

    /// <summary>An asynchronous turn that sets a reminder, then throws without writing.</summary>
    Task<long> SetReminderInCallThenThrow(string name, DateTimeOffset dueAt);

    /// <summary>
    /// A command that counts its writes and sets a one-shot reminder named after the count (<c>n1</c>, <c>n2</c>, ...):
    /// an attempt applied on stale state names its reminder after a count that another write already took.
    /// </summary>
    Task<long> SetNumberedReminder(DateTimeOffset dueAt);

    Task<long> ClearReminder(string name);

    /// <summary>Ticks whose handler wrote the grain's state (those with a <see cref="TickAction"/> other than none).</summary>
    Task<int> GetTicksWritten();

    /// <summary>An asynchronous turn that signals <paramref name="started"/> and then waits for <paramref name="release"/>.</summary>
    Task<long> Hold(TaskCompletionSource started, Task release);
}

/// <summary>What the test grain's reminder handler does on a tick, besides reporting it.</summary>
public enum TickAction
{
    /// <summary>Nothing: the service moves the reminder on (or deletes a one-shot one).</summary>
    None,

    /// <summary>Clears the reminder in the handler's own write.</summary>
    Clear,

    /// <summary>Sets the reminder again exactly as it was set (same due time and period), once.</summary>
    SetAgain,

    /// <summary>Sets the reminder again as a one-shot, one hour after the due time it was set with, once.</summary>
    Postpone,
}

public sealed class ReminderGrainState
{
    public long Writes { get; set; }

    public int TicksWritten { get; set; }

    public DateTimeOffset? DueAt { get; set; }

    public TimeSpan? Period { get; set; }

    public TickAction OnTick { get; set; }
}

public sealed class ReminderGrain(GrainId id, IPersistentState<ReminderGrainState> state, ReminderProbe probe)
{
    public static readonly TimeSpan Postponement = TimeSpan.FromHours(1);

    public long SetReminder(string name, DateTimeOffset dueAt, TimeSpan? period, TickAction onTick)
    {
        state.Append(ReminderChange.Set(id, name, dueAt, period));
        state.State.DueAt = dueAt;
        state.State.Period = period;
        state.State.OnTick = onTick;
        return ++state.State.Writes;
    }

    public long SetReminderThenThrow(string name, DateTimeOffset dueAt)
    {
        SetReminder(name, dueAt, null, TickAction.None);
        throw new InvalidOperationException($"Failed after setting reminder '{name}' of {id}.");
    }

    public async Task<long> SetReminderInCallThenThrowAsync(string name, DateTimeOffset dueAt)
    {
        SetReminder(name, dueAt, null, TickAction.None);
        await Task.Yield();
        throw new InvalidOperationException($"Failed after setting reminder '{name}' of {id}.");
    }

    public long SetNumberedReminder(DateTimeOffset dueAt)
    {
        var count = ++state.State.Writes;
        state.Append(ReminderChange.Set(id, $"n{count}", dueAt));
        return count;
    }

    public long ClearReminder(string name)
    {
        state.Append(ReminderChange.Clear(id, name));
        state.State.DueAt = null;
        state.State.Period = null;
        return ++state.State.Writes;
    }

    public int GetTicksWritten() => state.State.TicksWritten;

    public async Task<long> HoldAsync(TaskCompletionSource started, Task release)
    {
        started.TrySetResult();
        await release;
        return state.State.Writes;
    }

    /// <summary>The grain's reminder handler: a turn of its own, so it may await and write its state.</summary>
    public async Task OnReminderAsync(string name)
    {
        await probe.FiredAsync(id, name);
        if (probe.TakeFailure(id.Key))
        {
            throw new InvalidOperationException($"Reminder '{name}' of {id} failed, as the test asked.");
        }

        switch (state.State.OnTick)
        {
            case TickAction.None:
                return;
            case TickAction.Clear:
                state.Append(ReminderChange.Clear(id, name));
                break;
            case TickAction.SetAgain:
                state.Append(ReminderChange.Set(id, name, state.State.DueAt!.Value, state.State.Period));
                break;
            case TickAction.Postpone:
                state.Append(ReminderChange.Set(id, name, state.State.DueAt!.Value + Postponement));
                break;
            default:
                throw new InvalidOperationException($"Unknown tick action {state.State.OnTick}.");
        }

        state.State.OnTick = TickAction.None;
        state.State.TicksWritten++;
        await state.WriteStateAsync();
    }
}

/// <summary>Forwards each interface method as a message, as a grain's reference class does.</summary>
public sealed class ReminderReference(GrainReference<ReminderGrain> grain) : IReminderGrain
{
    public GrainId Id => grain.Id;

    public Task<long> SetReminder(string name, DateTimeOffset dueAt, TimeSpan? period = null, TickAction onTick = TickAction.None) =>
        grain.Update(g => g.SetReminder(name, dueAt, period, onTick));

    public Task<long> SetReminderThenThrow(string name, DateTimeOffset dueAt) => grain.Update(g => g.SetReminderThenThrow(name, dueAt));

    public Task<long> SetReminderInCallThenThrow(string name, DateTimeOffset dueAt) => grain.Call(g => g.SetReminderInCallThenThrowAsync(name, dueAt));

    public Task<long> SetNumberedReminder(DateTimeOffset dueAt) => grain.Update(g => g.SetNumberedReminder(dueAt));

    public Task<long> ClearReminder(string name) => grain.Update(g => g.ClearReminder(name));

    public Task<int> GetTicksWritten() => grain.Read(g => g.GetTicksWritten());

    public Task<long> Hold(TaskCompletionSource started, Task release) => grain.Call(g => g.HoldAsync(started, release));
}

/// <summary>One run of the test grain's reminder handler: which grain, which reminder, and when (UTC).</summary>
public sealed record FiredTick(string Key, string Name, DateTimeOffset At);

/// <summary>
/// What the test grain's reminder handlers did on one silo, counted across its activations; and the faults a test
/// asks of them: failing the next ticks of a grain, or holding its next tick until released.
/// </summary>
public sealed class ReminderProbe
{
    private readonly ConcurrentQueue<FiredTick> fired = new();
    private readonly ConcurrentDictionary<string, int> failuresLeft = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, (TaskCompletionSource Started, Task Release)> holds = new(StringComparer.Ordinal);

    /// <summary>Every handler run, in the order they started.</summary>
    public IReadOnlyList<FiredTick> Fired => [.. fired];

    public int Count(string key, string name) => fired.Count(tick => tick.Key == key && tick.Name == name);

    /// <summary>The next <paramref name="times"/> ticks of grain <paramref name="key"/> throw from the handler.</summary>
    public void FailNext(string key, int times) => failuresLeft[key] = times;

    /// <summary>The next tick of grain <paramref name="key"/> waits in its handler until the returned source is completed.</summary>
    public (Task Started, TaskCompletionSource Release) HoldNext(string key)
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        holds[key] = (started, release.Task);
        return (started.Task, release);
    }

    internal async Task FiredAsync(GrainId grain, string name)
    {
        fired.Enqueue(new FiredTick(grain.Key, name, DateTimeOffset.UtcNow));
        if (holds.TryRemove(grain.Key, out var hold))
        {
            hold.Started.TrySetResult();
            await hold.Release;
        }
        else
        {
            await Task.Yield();
        }
    }

    internal bool TakeFailure(string key)
    {
        while (failuresLeft.TryGetValue(key, out var left) && left > 0)
        {
            if (failuresLeft.TryUpdate(key, left - 1, left))
            {
                return true;
            }
        }

        return false;
    }
}
