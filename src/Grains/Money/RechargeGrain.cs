using MyPay.Silo.Grains;
using MyPay.Silo.Reminders;

namespace MyPay.Grains.Money;

/// <summary>
/// The reminder target of one recharge, keyed by recharge id. A recharge keeps nothing here: its row and its
/// reservation are written by the member's wallet (<see cref="IWalletGrain.ReserveRecharge"/>), with a reminder
/// on this grain that the wallet clears when it credits or releases the recharge. While the reminder stands,
/// the recharge is unfinished (the bank gave no answer, or the node stopped), and each tick carries it on from
/// its stored row. Every step is idempotent, so a tick beside the request still driving it changes nothing twice.
/// </summary>
public sealed class RechargeGrain(GrainId id, IPersistentState<RechargeState> state, IRechargeRecords records, Recharger recharger)
{
    public const string TypeName = "recharge";

    public const string ResumeReminder = "resume";

    public static GrainId IdOf(string rechargeId) => new(TypeName, rechargeId);

    /// <summary>Carries the recharge on if it is unfinished; returns its row as it then stands (null if there is none).</summary>
    public async Task<RechargeRecord?> CarryOnAsync()
    {
        var recharge = await records.FindAsync(id.Key, CancellationToken.None);
        return recharge is { Status: RechargeProgress.Pending } ? await recharger.FinishAsync(recharge) : recharge;
    }

    /// <summary>
    /// The reminder's tick. A reminder with no recharge row behind it (the wallet writes both together, so only
    /// one left by an older version of MyPay, which kept recharges in this grain's state) is cleared.
    /// </summary>
    public async Task OnReminderAsync(string name)
    {
        if (name == ResumeReminder && await CarryOnAsync() is null)
        {
            state.Append(ReminderChange.Clear(id, ResumeReminder));
            await state.WriteStateAsync();
        }
    }
}

/// <summary>Forwards <see cref="IRechargeGrain"/> calls to the recharge's activation as messages.</summary>
internal sealed class RechargeGrainReference(GrainReference<RechargeGrain> grain) : IRechargeGrain
{
    public Task<RechargeRecord?> CarryOn() => grain.Call(recharge => recharge.CarryOnAsync());
}
