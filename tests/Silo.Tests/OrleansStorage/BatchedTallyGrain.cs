using MyPay.Silo.Batching;
using MyPay.Silo.Tests.Support;
using Orleans;
using Orleans.Concurrency;
using OperationKey = MyPay.Silo.Grains.OperationKey;

namespace MyPay.Silo.Tests.OrleansStorage;

public interface IBatchedTallyGrain : IGrainWithStringKey
{
    /// <summary>Adds, with a record of the addition; returns the total after it.</summary>
    Task<long> Add(long amount, OperationKey? operation = null);

    /// <summary>Adds, then throws if the total went past <paramref name="limitWon"/>: a command that fails halfway.</summary>
    Task<long> AddWithin(long amount, long limitWon, OperationKey? operation = null);

    /// <summary>Adds with a record the table refuses (a negative value): the write fails in the database.</summary>
    Task<long> AddRefusedByTheDatabase(long amount);

    /// <summary>Writes a total the caller decided, not to be applied again to state another activation wrote.</summary>
    Task<long> Overwrite(long total);

    /// <summary>The committed total.</summary>
    Task<long> Committed();

    Task Deactivate();
}

/// <summary>A reentrant grain whose commands go through a <see cref="CommandBatch{TState}"/>.</summary>
[Reentrant]
public sealed class BatchedTallyGrain : Grain, IBatchedTallyGrain
{
    public const string StateName = "batched-tally";

    private readonly CommandBatch<TallyState> batch;

    public BatchedTallyGrain() =>
        batch = new CommandBatch<TallyState>(this, StateName, OrleansStorageCluster.StorageName);

    public override Task OnActivateAsync(CancellationToken cancellationToken) => batch.LoadAsync();

    public Task<long> Add(long amount, OperationKey? operation = null) => batch.Run(state => AddRecorded(state, amount, amount), operation);

    public Task<long> AddWithin(long amount, long limitWon, OperationKey? operation = null) => batch.Run(
        state =>
        {
            var total = AddRecorded(state, amount, amount);
            return total <= limitWon ? total : throw new InvalidOperationException($"The total {total} is past {limitWon}.");
        },
        operation);

    public Task<long> AddRefusedByTheDatabase(long amount) => batch.Run(state => AddRecorded(state, amount, -1));

    public Task<long> Overwrite(long total) => batch.Run(
        state =>
        {
            state.Total = total;
            return total;
        },
        reapply: false);

    public Task<long> Committed() => Task.FromResult(batch.Committed.Total);

    public Task Deactivate()
    {
        this.DeactivateOnIdle();
        return Task.CompletedTask;
    }

    private long AddRecorded(TallyState state, long amount, long recordedValue)
    {
        state.Total += amount;
        state.Records.Append(new TestRecord(this.GetPrimaryKeyString(), recordedValue, state.Total));
        return state.Total;
    }
}

public interface IUnloadedTallyGrain : IGrainWithStringKey
{
    Task<long> Committed();
}

/// <summary>A grain that forgets to load its batch's state: it must fail loudly, never read an empty state as stored.</summary>
public sealed class UnloadedTallyGrain : Grain, IUnloadedTallyGrain
{
    private readonly CommandBatch<TallyState> batch;

    public UnloadedTallyGrain() =>
        batch = new CommandBatch<TallyState>(this, "unloaded-tally", OrleansStorageCluster.StorageName);

    public Task<long> Committed() => Task.FromResult(batch.Committed.Total);
}
