namespace MyPay.Grains.Banking;

/// <summary>
/// The banks, as MyPay's firmbanking line reaches them. Implemented over HTTP by the node (timeouts,
/// retries with the same request id, a circuit breaker); grains see only outcomes.
/// </summary>
public interface IBankGateway
{
    /// <summary>Looks an account up: whether it exists, is open, and in whose name.</summary>
    Task<AccountLookup> LookUpAccountAsync(BankAccountNumber account, CancellationToken cancellationToken);

    /// <summary>
    /// Sends a transfer keyed by its request id; the bank applies one id at most once. An answer that
    /// never arrived is <see cref="TransferStatus.Unknown"/>: the money may or may not have moved.
    /// </summary>
    Task<TransferOutcome> TransferAsync(BankTransfer transfer, CancellationToken cancellationToken);

    /// <summary>Asks the bank what became of a request id: its recorded outcome, NotFound if it never applied it, or Unknown if the bank could not be asked.</summary>
    Task<TransferOutcome> GetTransferAsync(string requestId, CancellationToken cancellationToken);

    /// <summary>The bank's statement of MyPay's corporate account, line by line; null if the bank could not be asked.</summary>
    Task<CorporateStatement?> GetCorporateStatementAsync(CancellationToken cancellationToken);
}

/// <summary>The corporate account's balance now, and every transfer that moved its money: in positive, out negative, with the bank's fee for it.</summary>
public sealed record CorporateStatement(long BalanceWon, IReadOnlyList<StatementLine> Lines);

public sealed record StatementLine(string RequestId, long AmountWon, long FeeWon, DateTimeOffset CompletedAt);

[Orleans.GenerateSerializer]
public sealed record BankAccountNumber(string BankCode, string AccountNumber)
{
    public override string ToString() => $"{BankCode}-{AccountNumber}";
}

public sealed record BankTransfer(string RequestId, BankAccountNumber From, BankAccountNumber To, long AmountWon);

public enum AccountLookupStatus
{
    Open,
    Closed,
    NotFound,
    BankUnavailable,
}

/// <summary>An account as the bank sees it. The balance is known for MyPay's own corporate account (its statement), and for the simulator's accounts.</summary>
public sealed record AccountLookup(AccountLookupStatus Status, string? HolderName, long? BalanceWon = null);

public enum TransferStatus
{
    /// <summary>The bank moved the money.</summary>
    Succeeded,

    /// <summary>The bank refused (insufficient funds, closed account...) and moved nothing.</summary>
    Failed,

    /// <summary>The bank has no record of this request id: it never applied it.</summary>
    NotFound,

    /// <summary>No answer: the money may or may not have moved. Resolve by asking for the request id's status.</summary>
    Unknown,
}

/// <summary>What the bank said of a transfer; <see cref="FeeWon"/> is what it charged the corporate account for it.</summary>
public sealed record TransferOutcome(TransferStatus Status, string? Reason, long FeeWon = 0)
{
    public static TransferOutcome Unanswered(string reason) => new(TransferStatus.Unknown, reason);
}
