namespace MyPay.Silo.Tests.Support;

/// <summary>
/// What the runtime did to a test grain, counted across all its activations: constructions, command
/// applications (re-applications after a conflict included) and the most turns seen running at once.
/// </summary>
public sealed class GrainProbe
{
    private int constructions;
    private int applications;
    private int inTurn;
    private int maxInTurn;

    public int Constructions => Volatile.Read(ref constructions);

    public int Applications => Volatile.Read(ref applications);

    public int MaxInTurn => Volatile.Read(ref maxInTurn);

    public void Constructed() => Interlocked.Increment(ref constructions);

    public void Applied() => Interlocked.Increment(ref applications);

    public void Enter()
    {
        var now = Interlocked.Increment(ref inTurn);
        var seen = Volatile.Read(ref maxInTurn);
        while (now > seen)
        {
            var previous = Interlocked.CompareExchange(ref maxInTurn, now, seen);
            if (previous == seen)
            {
                break;
            }

            seen = previous;
        }
    }

    public void Exit() => Interlocked.Decrement(ref inTurn);
}
