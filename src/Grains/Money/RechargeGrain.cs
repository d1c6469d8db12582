using Microsoft.Extensions.Options;
using Orleans;
using Orleans.Runtime;

namespace MyPay.Grains.Money;

/// <summary>
/// The resumption of one recharge, keyed by recharge id. A recharge keeps nothing here: its row and its reservation
/// are written by the member's wallet (<see cref="IWalletGrain.ReserveRecharge"/>). This grain's reminder is armed
/// before that reservation and disarmed once the recharge has finished; while it stands, each tick carries the
/// recharge on from its stored row (the bank gave no answer, or the node stopped). Every step is idempotent, so a
/// tick beside the request still driving it changes nothing twice.
/// </summary>
[GrainType(TypeName)]
public sealed class RechargeGrain : Grain, IRechargeGrain, IRemindable
{
    /// <summary>The grain type name: stable, since reminders and ledger checks name it.</summary>
    public const string TypeName = "recharge";

    private readonly IRechargeRecords records;
    private readonly Recharger recharger;
    private readonly TimeSpan resumeInterval;
    private readonly Resumption resumption;

    public RechargeGrain(IRechargeRecords records, Recharger recharger, IOptions<RechargeOptions> options)
    {
        this.records = records;
        this.recharger = recharger;
        resumeInterval = options.Value.ResumeInterval;
        resumption = new Resumption(this, resumeInterval);
    }

    public Task Arm() => resumption.ArmAsync();

    public Task Disarm(RechargeRecord finished) =>
        finished.Status == RechargeProgress.Pending
            ? throw new InvalidOperationException($"Recharge {finished.RechargeId} is still pending: its reminder must stand.")
            : resumption.DisarmAsync();

    public async Task<RechargeRecord?> CarryOn()
    {
        var recharge = await records.FindAsync(this.GetPrimaryKeyString(), CancellationToken.None);
        return recharge is { Status: RechargeProgress.Pending } ? await recharger.FinishAsync(recharge) : recharge;
    }

    /// <summary>
    /// The reminder's tick: carries the recharge on, and disarms once it has finished. With no row yet the wallet's
    /// reservation may still be on its way (the reminder is armed just before it), so only a later tick that still
    /// finds none concludes that the recharge was never reserved.
    /// </summary>
    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName != Resumption.ReminderName)
        {
            return;
        }

        var recharge = await CarryOn();
        if (recharge is null ? status.CurrentTickTime - status.FirstTickTime >= resumeInterval : recharge.Status != RechargeProgress.Pending)
        {
            await resumption.DisarmAsync();
        }
    }
}
