using Orleans;
using Orleans.Runtime;

namespace MyPay.Grains;

/// <summary>
/// Durable resumption of work a crash may interrupt, through an Orleans reminder. A reminder is not written with
/// grain state, so it is armed before the step it guards (an armed reminder with nothing to do only costs a tick)
/// and disarmed after the last step has been written; a tick reads the state and disarms when nothing is pending.
/// One per grain activation: it keeps the handle it armed, so disarming it costs no look-up.
/// </summary>
internal sealed class Resumption(IGrainBase grain, TimeSpan interval)
{
    /// <summary>The reminder every resumable MyPay grain uses.</summary>
    public const string ReminderName = "resume";

    private IGrainReminder? armed;

    /// <summary>Arms the grain's resume reminder: first due after the interval, then every interval.</summary>
    public async Task ArmAsync() => armed = await grain.RegisterOrUpdateReminder(ReminderName, interval, interval);

    /// <summary>Disarms the grain's resume reminder, if it is armed (by this activation or an earlier one).</summary>
    public async Task DisarmAsync()
    {
        if ((armed ?? await grain.GetReminder(ReminderName)) is { } reminder)
        {
            await grain.UnregisterReminder(reminder);
        }

        armed = null;
    }
}
