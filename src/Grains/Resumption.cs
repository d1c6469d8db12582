using Orleans;

namespace MyPay.Grains;

/// <summary>
/// Durable resumption of work a crash may interrupt, through Orleans reminders. A reminder is not written with
/// grain state, so it is armed before the step it guards (an armed reminder with nothing to do only costs a tick)
/// and disarmed after the last step has been written; a tick reads the state and disarms when nothing is pending.
/// </summary>
internal static class Resumption
{
    /// <summary>The reminder every resumable MyPay grain uses.</summary>
    public const string ReminderName = "resume";

    /// <summary>Arms the grain's resume reminder: first due after <paramref name="interval"/>, then every <paramref name="interval"/>.</summary>
    public static Task ArmAsync(this IGrainBase grain, TimeSpan interval) => grain.RegisterOrUpdateReminder(ReminderName, interval, interval);

    /// <summary>Disarms the grain's resume reminder, if it is armed.</summary>
    public static async Task DisarmAsync(this IGrainBase grain)
    {
        if (await grain.GetReminder(ReminderName) is { } reminder)
        {
            await grain.UnregisterReminder(reminder);
        }
    }
}
