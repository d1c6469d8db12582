using Microsoft.Extensions.Options;
using Orleans;
using Orleans.Concurrency;
using Orleans.Runtime;

namespace MyPay.Silo.Storage.Retention;

/// <summary>Prunes the cluster's operation keys past their retention, driven by one Orleans reminder; one grain, keyed <see cref="Key"/>.</summary>
public interface IOperationKeyRetentionGrain : IGrainWithStringKey
{
    public const string Key = "operation-keys";

    /// <summary>Registers (or updates) the reminder. Every node asks as it starts; the reminder is one for the cluster.</summary>
    [AlwaysInterleave]
    Task Arm();

    /// <summary>Prunes once now (what each tick does); returns how many keys were deleted.</summary>
    Task<long> Prune();
}

/// <summary>
/// Not reentrant: a tick that comes while a prune runs waits for it, and a prune deletes only what is past the retention,
/// so a tick repeated (or fired on another node after this one's call timed out) deletes nothing twice.
/// </summary>
public sealed class OperationKeyRetentionGrain(OperationKeyPruner pruner, IOptions<OperationKeyOptions> options) : Grain, IOperationKeyRetentionGrain, IRemindable
{
    public const string ReminderName = "prune";

    public Task Arm() => this.RegisterOrUpdateReminder(ReminderName, options.Value.PruneInterval, options.Value.PruneInterval);

    public Task<long> Prune() => pruner.PruneAsync(CancellationToken.None);

    public Task ReceiveReminder(string reminderName, TickStatus status) =>
        reminderName == ReminderName ? Prune() : Task.CompletedTask;
}

/// <summary>Arms the pruning reminder once the silo is active, on every node (arming is idempotent).</summary>
internal sealed class ArmOperationKeyRetentionWhenActive(IGrainFactory grains) : ILifecycleParticipant<ISiloLifecycle>
{
    public void Participate(ISiloLifecycle lifecycle) => lifecycle.Subscribe(
        nameof(ArmOperationKeyRetentionWhenActive),
        ServiceLifecycleStage.Active,
        _ => grains.GetGrain<IOperationKeyRetentionGrain>(IOperationKeyRetentionGrain.Key).Arm());
}
