namespace MyPay.Api.Banking;

/// <summary>The shape of a Korean bank account reference: a 3-digit bank code, and an account number of digits and dashes.</summary>
public static class BankAccountRules
{
    public const int AccountNumberLengthMax = 32;

    public static Dictionary<string, string[]> Check(string? bankCode, string? accountNumber)
    {
        var errors = new Dictionary<string, string[]>();
        if (bankCode is not { Length: 3 } || !bankCode.All(char.IsAsciiDigit))
        {
            errors["bankCode"] = ["bankCode must be 3 digits, such as \"004\"."];
        }

        if (string.IsNullOrEmpty(accountNumber) || accountNumber.Length > AccountNumberLengthMax
            || !accountNumber.All(character => char.IsAsciiDigit(character) || character == '-') || !accountNumber.Any(char.IsAsciiDigit))
        {
            errors["accountNumber"] = [$"accountNumber must be 1 to {AccountNumberLengthMax} digits and dashes."];
        }

        return errors;
    }
}
