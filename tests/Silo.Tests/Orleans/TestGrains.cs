using System.Collections.Concurrent;
using Orleans;
using Orleans.Runtime;

namespace MyPay.Silo.Tests.Orleans;

/// <summary>A grain that says which silo it runs on, so a test can see calls reach every silo.</summary>
public interface IWhereGrain : IGrainWithIntegerKey
{
    Task<string> GetSiloIdentity();
}

public sealed class WhereGrain : Grain, IWhereGrain
{
    public Task<string> GetSiloIdentity() => Task.FromResult(RuntimeIdentity);
}

/// <summary>A grain with one durable reminder whose ticks are recorded in <see cref="ReminderTicks"/>.</summary>
public interface IReminderProbeGrain : IGrainWithStringKey
{
    Task Start(TimeSpan period);

    Task Unregister();
}

public sealed class ReminderProbeGrain : Grain, IReminderProbeGrain, IRemindable
{
    public const string ReminderName = "probe";

    public Task Start(TimeSpan period) => this.RegisterOrUpdateReminder(ReminderName, period, period);

    public async Task Unregister()
    {
        if (await this.GetReminder(ReminderName) is { } reminder)
        {
            await this.UnregisterReminder(reminder);
        }
    }

    public Task ReceiveReminder(string reminderName, TickStatus status)
    {
        ReminderTicks.Record(this.GetPrimaryKeyString(), RuntimeIdentity);
        return Task.CompletedTask;
    }
}

/// <summary>
/// Where each probe grain's ticks ran, by grain key. The test silos run in the test process, so a static
/// collection sees every silo's ticks; tests use fresh grain keys, so tests running side by side do not mix.
/// </summary>
public static class ReminderTicks
{
    private static readonly ConcurrentDictionary<string, ConcurrentQueue<string>> TicksByGrain = new(StringComparer.Ordinal);

    public static void Record(string grainKey, string siloIdentity) =>
        TicksByGrain.GetOrAdd(grainKey, _ => new ConcurrentQueue<string>()).Enqueue(siloIdentity);

    /// <summary>The silo identities of the grain's ticks so far, oldest first.</summary>
    public static IReadOnlyList<string> Of(string grainKey) =>
        TicksByGrain.TryGetValue(grainKey, out var ticks) ? [.. ticks] : [];
}
