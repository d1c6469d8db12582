using MyPay.BankSimulator.Accounts;
using MyPay.BankSimulator.Hosting;

namespace MyPay.BankSimulator.Transfers;

/// <summary>The shape of a transfer request. Whether its banks and accounts exist is the ledger's question.</summary>
public static class TransferRules
{
    public const int RequestIdLengthMax = 100;

    /// <summary>
    /// 1 to 100 of the characters a URL path carries unescaped (letters, digits, '-', '.', '_', '~', ':'),
    /// so that every request id can be asked about as <c>GET /transfers/{requestId}</c> exactly as sent.
    /// </summary>
    public static string? RequestIdError(string? requestId) => requestId switch
    {
        null => "is required.",
        _ when requestId.Length is 0 or > RequestIdLengthMax => $"must be 1 to {RequestIdLengthMax} characters; got {requestId.Length}.",
        _ when !requestId.All(character => char.IsAsciiLetterOrDigit(character) || character is '-' or '.' or '_' or '~' or ':') =>
            $"must be letters, digits, '-', '.', '_', '~' or ':' only; got {ValidationErrors.Quote(requestId)}.",
        _ => null,
    };

    public static string? AmountError(long? amountWon) => amountWon switch
    {
        null => "is required.",
        <= 0 or > AccountRules.BalanceWonMax => $"must be 1 to {AccountRules.BalanceWonMax} won; got {amountWon}.",
        _ => null,
    };

    /// <summary>The order a request describes, or null with its errors recorded.</summary>
    public static TransferOrder? TryCreate(TransferRequest request, ValidationErrors errors)
    {
        errors.Add("requestId", RequestIdError(request.RequestId));
        var from = TryAccount("from", request.From, errors);
        var to = TryAccount("to", request.To, errors);
        errors.Add("amount", AmountError(request.Amount));
        if (from is { } fromKey && fromKey == to)
        {
            errors.Add("to", $"must be another account than 'from'; both are {fromKey}.");
        }

        if (errors.Any || request.RequestId is null || from is null || to is null || request.Amount is null)
        {
            return null;
        }

        return new TransferOrder(request.RequestId, from.Value, to.Value, request.Amount.Value);
    }

    private static AccountKey? TryAccount(string field, AccountReference? reference, ValidationErrors errors)
    {
        if (reference is null)
        {
            errors.Add(field, "is required: an object with bankCode and accountNumber.");
            return null;
        }

        var bankCodeError = AccountRules.BankCodeError(reference.BankCode);
        var accountNumberError = AccountRules.AccountNumberError(reference.AccountNumber);
        errors.Add($"{field}.bankCode", bankCodeError).Add($"{field}.accountNumber", accountNumberError);
        return bankCodeError is null && accountNumberError is null && reference.BankCode is not null && reference.AccountNumber is not null
            ? new AccountKey(reference.BankCode, reference.AccountNumber)
            : null;
    }
}
