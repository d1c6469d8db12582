namespace MyPay.BankSimulator.Faults;

/// <summary>
/// The answer that never arrives: the connection is dropped without a response, so the client sees a
/// connection error and cannot know whether its request was applied. It was; a later
/// <c>GET /transfers/{requestId}</c> says how it ended.
/// </summary>
public sealed class LostResponse : IResult
{
    public static LostResponse Instance { get; } = new();

    private LostResponse()
    {
    }

    public Task ExecuteAsync(HttpContext httpContext)
    {
        httpContext.Abort();
        return Task.CompletedTask;
    }
}
