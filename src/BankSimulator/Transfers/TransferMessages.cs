using MyPay.BankSimulator.Accounts;

namespace MyPay.BankSimulator.Transfers;

/// <summary>An account named in a transfer, on the wire.</summary>
public sealed record AccountReference(string? BankCode, string? AccountNumber);

/// <summary>
/// The body of <c>POST /transfers</c>. <c>Amount</c> is in whole won. Every member is nullable so that
/// a missing field is reported by name rather than as unreadable JSON.
/// </summary>
public sealed record TransferRequest(string? RequestId, AccountReference? From, AccountReference? To, long? Amount);

/// <summary>A transfer's recorded outcome, on the wire. <c>Reason</c> is null when it succeeded.</summary>
public sealed record TransferResponse(
    string RequestId,
    TransferStatus Status,
    TransferFailureReason? Reason,
    long Amount,
    AccountReference From,
    AccountReference To,
    DateTimeOffset CompletedAt,
    long Fee)
{
    public static TransferResponse Of(TransferRecord record) => new(
        record.Order.RequestId,
        record.Status,
        record.Reason,
        record.Order.AmountWon,
        Reference(record.Order.From),
        Reference(record.Order.To),
        record.CompletedAt,
        record.FeeWon);

    private static AccountReference Reference(AccountKey key) => new(key.BankCode, key.AccountNumber);
}
