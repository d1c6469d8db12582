namespace MyPay.BankSimulator.Hosting;

/// <summary>
/// Collects every invalid field of one request, so the 400 names them all instead of the first only.
/// Keys are the fields' JSON paths (<c>from.accountNumber</c>).
/// </summary>
public sealed class ValidationErrors
{
    private const int QuotedLengthMax = 40;

    private readonly Dictionary<string, string[]> errors = new(StringComparer.Ordinal);

    public bool Any => errors.Count > 0;

    /// <summary>Records the error for a field when there is one; a null error means the field is valid.</summary>
    public ValidationErrors Add(string field, string? error)
    {
        if (error is not null)
        {
            errors[field] = [error];
        }

        return this;
    }

    public ValidationProblem ToProblem() => Problems.Invalid(errors);

    /// <summary>A value echoed in an error, cut short so a huge value cannot make a huge response.</summary>
    public static string Quote(string value) => value.Length <= QuotedLengthMax
        ? $"\"{value}\""
        : $"\"{value[..QuotedLengthMax]}…\" ({value.Length} characters)";

    /// <summary>For a start-up failure message: "field: error. field: error."</summary>
    public override string ToString() => string.Join(" ", errors.Select(error => $"{error.Key}: {error.Value[0]}"));
}
