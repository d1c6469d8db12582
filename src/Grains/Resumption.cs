using Orleans;
using Orleans.Runtime;

namespace MyPay.Grains;

/// <summary>
/// Durable resumption of work a crash may interrupt, through an Orleans reminder. A reminder is not written with
/// grain state, so it is armed before the step it guards (an armed reminder with nothing to do only costs a tick)
/// and disarmed once nothing is pending. One per grain activation: it keeps the handle it armed, so a grain that is
/// armed already arms for free, and disarming costs no look-up.
/// <para>
/// Two ways to use it. A grain with one piece of work at a time arms (<see cref="ArmAsync"/>) before its first step
/// and disarms (<see cref="DisarmAsync"/>) after its last. A busy grain with many pieces in flight at once (a wallet's
/// recharges) holds a guard (<see cref="GuardAsync"/>) around each guarded step and leaves disarming to its ticks
/// (<see cref="DisarmWhenIdleAsync"/>): while work keeps coming the reminder stays armed and costs nothing per piece.
/// Arming and disarming run one at a time, in the order asked, so a reminder armed after a disarm is stored after it.
/// </para>
/// </summary>
internal sealed class Resumption(IGrainBase grain, TimeSpan interval)
{
    /// <summary>The reminder every resumable MyPay grain uses.</summary>
    public const string ReminderName = "resume";

    private IGrainReminder? armed;

    /// <summary>The last arming or disarming asked for; the next one starts after it.</summary>
    private Task changing = Task.CompletedTask;

    /// <summary>Guarded steps in progress: while there is one, nothing disarms.</summary>
    private int guards;

    /// <summary>Arms the grain's resume reminder, unless this activation has it armed: first due after the interval, then every interval.</summary>
    public Task ArmAsync() => armed is not null ? Task.CompletedTask : Change(async () => armed ??= await grain.RegisterOrUpdateReminder(ReminderName, interval, interval));

    /// <summary>Disarms the grain's resume reminder, if it is armed (by this activation or an earlier one).</summary>
    public Task DisarmAsync() => Change(UnregisterAsync);

    /// <summary>
    /// Arms the reminder (unless it is armed) and keeps it from being disarmed until the returned guard is disposed:
    /// hold it around the step it guards, up to that step's write.
    /// </summary>
    public async Task<IDisposable> GuardAsync()
    {
        guards++;
        try
        {
            await ArmAsync();
            return new Guard(this);
        }
        catch
        {
            guards--;
            throw;
        }
    }

    /// <summary>
    /// Disarms the reminder if no guarded step is in progress and <paramref name="idle"/> says nothing is pending, both
    /// asked when the disarming starts (after any arming before it). For a tick, once it has carried on what it found.
    /// </summary>
    public Task DisarmWhenIdleAsync(Func<bool> idle) => Change(() => guards == 0 && idle() ? UnregisterAsync() : Task.CompletedTask);

    private async Task UnregisterAsync()
    {
        // Forgotten first: a guard that starts while the reminder is being unregistered arms it again, after this.
        var reminder = armed;
        armed = null;
        if ((reminder ?? await grain.GetReminder(ReminderName)) is { } stored)
        {
            await grain.UnregisterReminder(stored);
        }
    }

    private Task Change(Func<Task> change)
    {
        var previous = changing;
        changing = RunAfterAsync(previous, change);
        return changing;
    }

    private static async Task RunAfterAsync(Task previous, Func<Task> change)
    {
        // Whatever became of the one before (its caller saw that), this one runs.
        await previous.ConfigureAwait(ConfigureAwaitOptions.ContinueOnCapturedContext | ConfigureAwaitOptions.SuppressThrowing);
        await change();
    }

    private sealed class Guard(Resumption resumption) : IDisposable
    {
        private bool released;

        public void Dispose()
        {
            if (!released)
            {
                released = true;
                resumption.guards--;
            }
        }
    }
}
