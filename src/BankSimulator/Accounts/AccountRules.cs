using MyPay.BankSimulator.Banks;
using MyPay.BankSimulator.Hosting;

namespace MyPay.BankSimulator.Accounts;

/// <summary>
/// The shape of an account's fields. Each check returns the error to show, or null when the value is
/// valid; a missing value is the caller's "is required".
/// </summary>
public static class AccountRules
{
    public const int AccountNumberLengthMax = 32;

    public const int HolderNameLengthMax = 50;

    /// <summary>
    /// The largest balance an account may hold, in won: 1,000조 (10^15), more than any real account.
    /// Bounding every balance and amount by it means no sum of two can overflow a <c>long</c>.
    /// </summary>
    public const long BalanceWonMax = 1_000_000_000_000_000;

    public static string? BankCodeError(string? bankCode) => bankCode switch
    {
        null => "is required.",
        _ when !BankDirectory.IsWellFormed(bankCode) => $"must be {BankDirectory.CodeLength} digits, such as \"088\"; got {ValidationErrors.Quote(bankCode)}.",
        _ => null,
    };

    public static string? AccountNumberError(string? accountNumber) => accountNumber switch
    {
        null => "is required.",
        _ when accountNumber.Length is 0 or > AccountNumberLengthMax =>
            $"must be 1 to {AccountNumberLengthMax} characters; got {accountNumber.Length}.",
        _ when !accountNumber.All(character => char.IsAsciiDigit(character) || character == '-') || !accountNumber.Any(char.IsAsciiDigit) =>
            $"must be digits and '-' only, such as \"110-123-456789\"; got {ValidationErrors.Quote(accountNumber)}.",
        _ => null,
    };

    public static string? HolderNameError(string? holderName) => holderName?.Trim() switch
    {
        null => "is required.",
        { Length: 0 } => "must not be empty or blank.",
        { Length: > HolderNameLengthMax } trimmed => $"must be at most {HolderNameLengthMax} characters; got {trimmed.Length}.",
        var trimmed when trimmed.Any(char.IsControl) => "must not contain control characters.",
        _ => null,
    };

    public static string? BalanceError(long balanceWon) => balanceWon is < 0 or > BalanceWonMax
        ? $"must be 0 to {BalanceWonMax} won; got {balanceWon}."
        : null;

    /// <summary>
    /// The account a request describes, or null with its errors recorded. An absent balance is 0 and an
    /// absent status is open. Whether the bank exists is not a question of shape: the caller asks.
    /// </summary>
    public static Account? TryCreate(OpenAccountRequest request, ValidationErrors errors)
    {
        errors
            .Add("bankCode", BankCodeError(request.BankCode))
            .Add("accountNumber", AccountNumberError(request.AccountNumber))
            .Add("holderName", HolderNameError(request.HolderName))
            .Add("balance", BalanceError(request.Balance ?? 0));
        if (errors.Any || request.BankCode is null || request.AccountNumber is null || request.HolderName is null)
        {
            return null;
        }

        return new Account(
            new AccountKey(request.BankCode, request.AccountNumber),
            request.HolderName.Trim(),
            request.Status ?? AccountStatus.Open,
            request.Balance ?? 0);
    }
}
