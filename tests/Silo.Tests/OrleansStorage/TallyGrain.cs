using System.Collections.Concurrent;
using System.Text;
using System.Text.Json.Serialization;
using Microsoft.Extensions.DependencyInjection;
using MyPay.Silo.Events;
using MyPay.Silo.Storage;
using MyPay.Silo.Tests.Support;
using Orleans;
using Orleans.Runtime;
using Orleans.Streams.Core;

namespace MyPay.Silo.Tests.OrleansStorage;

/// <summary>A running total whose every write also stores a <see cref="TestRecord"/> agreeing with the total it committed.</summary>
[GenerateSerializer]
public sealed class TallyState : IPublishingState
{
    [Id(0)]
    public long Total { get; set; }

    [Id(1)]
    public long EventSequence { get; set; }

    [JsonIgnore]
    [field: NonSerialized]
    public PendingRecords Records { get; } = new();
}

public interface ITallyGrain : IGrainWithStringKey
{
    /// <summary>Adds and writes, with a record of the addition; returns the total.</summary>
    Task<long> Add(long amount);

    /// <summary>Adds and writes, publishing a <c>tally.added</c> event on the tally's stream; returns the total.</summary>
    Task<long> AddAndPublish(long amount);

    /// <summary>Adds and writes under an operation key; the key's recorded result is the total.</summary>
    Task<long> AddOnce(long amount, string operationId);

    /// <summary>The total the grain has in memory.</summary>
    Task<long> Total();

    /// <summary>The result recorded under an operation key, or null.</summary>
    Task<string?> RecordedResult(string operationId);

    /// <summary>Reads the stored state again, dropping whatever memory holds.</summary>
    Task Reload();
}

public sealed class TallyGrain(
    [PersistentState(TallyGrain.StateName, OrleansStorageCluster.StorageName)] IPersistentState<TallyState> tally) : TallyBase(tally), ITallyGrain
{
    public const string StateName = "tally";

    public async Task<long> AddAndPublish(long amount)
    {
        Tally.State.Total += amount;
        var key = this.GetPrimaryKeyString();
        Tally.State.Publish($"tally:{key}", $"tally.added:{key}:{Tally.State.Total}", "tally.added", new { amount, total = Tally.State.Total }, DateTimeOffset.UtcNow);
        await WriteOrRestoreAsync();
        return Tally.State.Total;
    }

    public async Task<long> AddOnce(long amount, string operationId)
    {
        Tally.State.Total += amount;
        Tally.State.Records.Record(new OperationRecord(operationId, $"add {amount}", Encoding.UTF8.GetBytes(Tally.State.Total.ToString(System.Globalization.CultureInfo.InvariantCulture))));
        await WriteOrRestoreAsync();
        return Tally.State.Total;
    }

    public Task<long> Total() => Task.FromResult(Tally.State.Total);

    public async Task<string?> RecordedResult(string operationId)
    {
        var storage = (GroupCommitGrainStorage)ServiceProvider.GetRequiredKeyedService<global::Orleans.Storage.IGrainStorage>(OrleansStorageCluster.StorageName);
        var recorded = await storage.ReadOperationAsync(StateName, this.GetGrainId(), operationId);
        return recorded is null ? null : Encoding.UTF8.GetString(recorded.Result);
    }

    public Task Reload() => Tally.ReadStateAsync();
}

public interface ISideTallyGrain : IGrainWithStringKey
{
    /// <summary>Adds and writes, with a record of the addition; returns the total.</summary>
    Task<long> Add(long amount);
}

/// <summary>A tally stored through the provider with a committer of its own (<see cref="OrleansStorageCluster.SideStorageName"/>).</summary>
public sealed class SideTallyGrain(
    [PersistentState(SideTallyGrain.StateName, OrleansStorageCluster.SideStorageName)] IPersistentState<TallyState> tally) : TallyBase(tally), ISideTallyGrain
{
    public const string StateName = "side-tally";
}

/// <summary>What both tallies do: add, with a record of the addition, and write.</summary>
public abstract class TallyBase(IPersistentState<TallyState> tally) : Grain
{
    protected IPersistentState<TallyState> Tally => tally;

    public async Task<long> Add(long amount)
    {
        tally.State.Total += amount;
        tally.State.Records.Append(new TestRecord(this.GetPrimaryKeyString(), amount, tally.State.Total));
        await WriteOrRestoreAsync();
        return tally.State.Total;
    }

    /// <summary>A failed write leaves its change in memory (Orleans does not roll back): read the stored state back.</summary>
    protected async Task WriteOrRestoreAsync()
    {
        try
        {
            await tally.WriteStateAsync();
        }
        catch
        {
            await tally.ReadStateAsync();
            throw;
        }
    }
}

public interface ISameStateNameGrain : IGrainWithStringKey
{
    Task<long> Total();
}

/// <summary>Another grain type that names its state as <see cref="TallyGrain"/> does: their rows would collide.</summary>
public sealed class SameStateNameGrain(
    [PersistentState(TallyGrain.StateName, OrleansStorageCluster.StorageName)] IPersistentState<TallyState> tally) : Grain, ISameStateNameGrain
{
    public Task<long> Total() => Task.FromResult(tally.State.Total);
}

public interface ITallyEventsGrain : IOutboxConsumer;

/// <summary>
/// Records every event of the tallies' streams it is handed through the outbox stream provider, per tally in arrival
/// order; refuses (throws) a delivery holding an event of a tally in <see cref="Failing"/>, as a consumer with a fault
/// would, recording none of it; and fails one holding an event of a tally in <see cref="Unreachable"/> as a consumer
/// whose call reached a node that just died would.
/// </summary>
[ImplicitStreamSubscription("tally", OutboxSubscriptions.StreamIdMapperName)]
public sealed class TallyEventsGrain : Grain, ITallyEventsGrain, IStreamSubscriptionObserver
{
    private static readonly ConcurrentDictionary<string, ConcurrentQueue<OutboxEvent>> ReceivedByTally = new(StringComparer.Ordinal);

    /// <summary>Tallies whose events the consumer refuses.</summary>
    public static ConcurrentDictionary<string, bool> Failing { get; } = new(StringComparer.Ordinal);

    /// <summary>Tallies whose events the consumer cannot pass on: the grain it hands them to is on an unreachable silo.</summary>
    public static ConcurrentDictionary<string, bool> Unreachable { get; } = new(StringComparer.Ordinal);

    /// <summary>Deliveries that failed because a tally was <see cref="Unreachable"/>.</summary>
    public static int UnreachableDeliveries => unreachableDeliveries;

    private static int unreachableDeliveries;

    /// <summary>What the consumer has taken so far of a tally's stream.</summary>
    public static IReadOnlyList<OutboxEvent> Received(string tallyKey) => [.. ReceivedByTally.GetOrAdd(tallyKey, _ => new())];

    public Task OnSubscribed(IStreamSubscriptionHandleFactory handleFactory) => this.ResumeOutboxAsync(handleFactory);

    public Task Consume(IReadOnlyList<OutboxEvent> events)
    {
        if (events.Select(TallyOf).FirstOrDefault(Failing.ContainsKey) is { } failing)
        {
            throw new InvalidOperationException($"The consumer refuses the events of tally {failing}.");
        }

        if (events.Select(TallyOf).FirstOrDefault(Unreachable.ContainsKey) is { } unreachable)
        {
            Interlocked.Increment(ref unreachableDeliveries);
            throw new SiloUnavailableException($"The silo holding the grain tally {unreachable}'s events go to is unavailable.");
        }

        foreach (var published in events)
        {
            ReceivedByTally.GetOrAdd(TallyOf(published), _ => new()).Enqueue(published);
        }

        return Task.CompletedTask;
    }

    private static string TallyOf(OutboxEvent published) => published.StreamId.GetKeyAsString()!;
}
