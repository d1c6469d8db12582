using MyPay.Silo.Grains;

namespace MyPay.Silo.Tests.Support;

/// <summary>A test grain: a counter that can also withdraw, hold a turn open, throw halfway and report what the runtime did to it.</summary>
public interface ICounterGrain
{
    GrainId Id { get; }

    Task<long> Increment();

    Task<long> Add(long amount, OperationKey? operation = null);

    /// <summary>A command that changes state, then throws.</summary>
    Task<long> AddThenThrow(long amount, OperationKey? operation = null);

    /// <summary>Takes <paramref name="amount"/> only if the balance covers it.</summary>
    Task<bool> Withdraw(long amount);

    Task<long> GetValue();

    /// <summary>The version the activation last read or wrote.</summary>
    Task<long> GetVersion();

    Task<long> GetThenThrow();

    /// <summary>An asynchronous turn that changes state and writes it itself.</summary>
    Task<long> AddAndWrite(long amount);

    /// <summary>An asynchronous turn that changes state, then throws.</summary>
    Task<long> AddThenThrowAsync(long amount);

    /// <summary>An asynchronous turn that signals <paramref name="started"/> and then waits for <paramref name="release"/>.</summary>
    Task<long> Hold(TaskCompletionSource started, Task release);

    Task<int> Append(int entry);

    Task<int> AppendInCall(int entry);

    Task<int[]> GetLog();

    Task<int> ProbeCommand();

    Task<int> ProbeRead();

    Task<int> ProbeCall();

    /// <summary>A command that adds <paramref name="amount"/> and appends a <see cref="TestRecord"/> of it.</summary>
    Task<long> AddRecorded(long amount, OperationKey? operation = null);

    /// <summary>A command that adds and appends as <see cref="AddRecorded"/> does, then throws.</summary>
    Task<long> AddRecordedThenThrow(long amount);

    /// <summary>A command that adds one and appends an <see cref="UnwritableRecord"/>, a type no writer stores.</summary>
    Task<long> AddUnwritable();

    /// <summary>A command that adds one and appends null, which no storage can write.</summary>
    Task<long> AddNullRecord();

    /// <summary>An asynchronous turn that adds, appends a <see cref="TestRecord"/> and writes the state itself.</summary>
    Task<long> AddRecordedAndWrite(long amount);

    /// <summary>An asynchronous turn that adds and appends, then throws without writing.</summary>
    Task<long> AddRecordedThenThrowAsync(long amount);

    /// <summary>An asynchronous turn that adds and appends, and returns without writing.</summary>
    Task<long> AddRecordedWithoutWriting(long amount);
}

public sealed class CounterState
{
    public long Value { get; set; }

    public List<int> Log { get; init; } = [];
}

public sealed class CounterGrain(IPersistentState<CounterState> state, GrainProbe probe)
{
    public long Add(long amount)
    {
        probe.Applied();
        state.State.Value += amount;
        return state.State.Value;
    }

    public long AddThenThrow(long amount)
    {
        state.State.Value += amount;
        throw new InvalidOperationException($"Failed after adding {amount}.");
    }

    public bool Withdraw(long amount)
    {
        probe.Applied();
        if (state.State.Value < amount)
        {
            return false;
        }

        state.State.Value -= amount;
        return true;
    }

    public long GetValue() => state.State.Value;

    public long GetVersion() => state.Version;

    public long GetThenThrow() => throw new InvalidOperationException($"Read failed at value {state.State.Value}.");

    public async Task<long> AddAndWriteAsync(long amount)
    {
        state.State.Value += amount;
        await Task.Yield();
        await state.WriteStateAsync();
        return state.State.Value;
    }

    public async Task<long> AddThenThrowAsync(long amount)
    {
        state.State.Value += amount;
        await Task.Yield();
        throw new InvalidOperationException($"Failed after adding {amount}.");
    }

    public async Task<long> HoldAsync(TaskCompletionSource started, Task release)
    {
        started.TrySetResult();
        await release;
        return state.State.Value;
    }

    public int Append(int entry)
    {
        state.State.Log.Add(entry);
        return state.State.Log.Count;
    }

    public async Task<int> AppendInCallAsync(int entry)
    {
        await Task.Yield();
        state.State.Log.Add(entry);
        return state.State.Log.Count;
    }

    public int[] GetLog() => [.. state.State.Log];

    public long AddRecorded(string key, long amount)
    {
        probe.Applied();
        state.State.Value += amount;
        state.Append(new TestRecord(key, amount, state.State.Value));
        return state.State.Value;
    }

    public long AddRecordedThenThrow(string key, long amount)
    {
        AddRecorded(key, amount);
        throw new InvalidOperationException($"Failed after appending a record of {amount}.");
    }

    public long AddUnwritable(string key)
    {
        state.State.Value++;
        state.Append(new UnwritableRecord(key));
        return state.State.Value;
    }

    public long AddNullRecord()
    {
        state.State.Value++;
        state.Append(null!);
        return state.State.Value;
    }

    public async Task<long> AddRecordedAndWriteAsync(string key, long amount)
    {
        AddRecorded(key, amount);
        await Task.Yield();
        await state.WriteStateAsync();
        return state.State.Value;
    }

    public async Task<long> AddRecordedThenThrowAsync(string key, long amount)
    {
        AddRecorded(key, amount);
        await Task.Yield();
        throw new InvalidOperationException($"Failed after appending a record of {amount}.");
    }

    public async Task<long> AddRecordedWithoutWritingAsync(string key, long amount)
    {
        AddRecorded(key, amount);
        await Task.Yield();
        return state.State.Value;
    }

    public int ProbeCommand()
    {
        probe.Enter();
        Thread.SpinWait(1_000);
        probe.Exit();
        return 0;
    }

    public int ProbeRead()
    {
        probe.Enter();
        Thread.SpinWait(1_000);
        probe.Exit();
        return 0;
    }

    public async Task<int> ProbeCallAsync()
    {
        probe.Enter();
        try
        {
            await Task.Yield();
            await Task.Delay(1);
            return 0;
        }
        finally
        {
            probe.Exit();
        }
    }
}

/// <summary>Forwards each interface method as a message, as a grain's reference class does.</summary>
public sealed class CounterReference(GrainReference<CounterGrain> grain) : ICounterGrain
{
    public GrainId Id => grain.Id;

    public Task<long> Increment() => grain.Update(g => g.Add(1));

    public Task<long> Add(long amount, OperationKey? operation = null) => grain.Update(g => g.Add(amount), operation);

    public Task<long> AddThenThrow(long amount, OperationKey? operation = null) => grain.Update(g => g.AddThenThrow(amount), operation);

    public Task<bool> Withdraw(long amount) => grain.Update(g => g.Withdraw(amount));

    public Task<long> GetValue() => grain.Read(g => g.GetValue());

    public Task<long> GetVersion() => grain.Read(g => g.GetVersion());

    public Task<long> GetThenThrow() => grain.Read(g => g.GetThenThrow());

    public Task<long> AddAndWrite(long amount) => grain.Call(g => g.AddAndWriteAsync(amount));

    public Task<long> AddThenThrowAsync(long amount) => grain.Call(g => g.AddThenThrowAsync(amount));

    public Task<long> Hold(TaskCompletionSource started, Task release) => grain.Call(g => g.HoldAsync(started, release));

    public Task<int> Append(int entry) => grain.Update(g => g.Append(entry));

    public Task<int> AppendInCall(int entry) => grain.Call(g => g.AppendInCallAsync(entry));

    public Task<int[]> GetLog() => grain.Read(g => g.GetLog());

    public Task<int> ProbeCommand() => grain.Update(g => g.ProbeCommand());

    public Task<int> ProbeRead() => grain.Read(g => g.ProbeRead());

    public Task<int> ProbeCall() => grain.Call(g => g.ProbeCallAsync());

    public Task<long> AddRecorded(long amount, OperationKey? operation = null) => grain.Update(g => g.AddRecorded(Id.Key, amount), operation);

    public Task<long> AddRecordedThenThrow(long amount) => grain.Update(g => g.AddRecordedThenThrow(Id.Key, amount));

    public Task<long> AddUnwritable() => grain.Update(g => g.AddUnwritable(Id.Key));

    public Task<long> AddNullRecord() => grain.Update(g => g.AddNullRecord());

    public Task<long> AddRecordedAndWrite(long amount) => grain.Call(g => g.AddRecordedAndWriteAsync(Id.Key, amount));

    public Task<long> AddRecordedThenThrowAsync(long amount) => grain.Call(g => g.AddRecordedThenThrowAsync(Id.Key, amount));

    public Task<long> AddRecordedWithoutWriting(long amount) => grain.Call(g => g.AddRecordedWithoutWritingAsync(Id.Key, amount));
}
