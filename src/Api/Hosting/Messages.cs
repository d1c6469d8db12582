namespace MyPay.Api.Hosting;

/// <summary>
/// Pieces of problem details that show a client's or the bank's value: a missing one says so, instead of leaving a
/// gap in the sentence ("Refund amount  won is not a positive number").
/// </summary>
public static class Messages
{
    /// <summary>Why an amount field is refused: it is missing, or outside 1 to its cap.</summary>
    public static string AmountOutOfRange(long? amountWon, long capWon) => amountWon is { } given
        ? $"amount must be 1 to {capWon} won; got {given}."
        : $"amount is missing; it must be 1 to {capWon} won.";

    /// <summary>A reason someone else gave (the bank), or that none was given.</summary>
    public static string Reason(string? reason) => string.IsNullOrWhiteSpace(reason) ? "no reason was given" : reason;
}
