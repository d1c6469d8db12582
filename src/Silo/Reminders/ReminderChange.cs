using MyPay.Silo.Grains;

namespace MyPay.Silo.Reminders;

/// <summary>
/// Sets or clears a durable reminder. A grain appends one to its state write
/// (<see cref="IPersistentState{TState}.Append"/>), so the reminder exists exactly when the state that
/// needs it does: a recharge that recorded "waiting for the bank" also holds the reminder that resumes it.
/// </summary>
public sealed record ReminderChange(GrainId Grain, string Name, DateTimeOffset? DueAt, TimeSpan? Period)
{
    public const int NameLengthMax = 100;

    /// <summary>Fires at <paramref name="dueAt"/>, then every <paramref name="period"/> if given, until cleared.</summary>
    public static ReminderChange Set(GrainId grain, string name, DateTimeOffset dueAt, TimeSpan? period = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(name.Length, NameLengthMax, nameof(name));
        if (period is { } every)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(every, TimeSpan.FromMilliseconds(1), nameof(period));
        }

        return new ReminderChange(grain, name, dueAt, period);
    }

    public static ReminderChange Clear(GrainId grain, string name) => new(grain, name, null, null);
}
