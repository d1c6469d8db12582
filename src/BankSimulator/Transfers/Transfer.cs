using MyPay.BankSimulator.Accounts;

namespace MyPay.BankSimulator.Transfers;

/// <summary>
/// What a client asked the bank to do, keyed by its request id. Two requests with one id are the same
/// transfer only when every field is equal.
/// </summary>
public sealed record TransferOrder(string RequestId, AccountKey From, AccountKey To, long AmountWon);

public enum TransferStatus
{
    Succeeded,
    Failed,
}

/// <summary>Why the bank refused a transfer. A refusal is a recorded outcome, not an HTTP error.</summary>
public enum TransferFailureReason
{
    /// <summary>The from- or to-bank code is well formed but no bank of the network has it.</summary>
    UnknownBank,

    /// <summary>The from- or to-account does not exist at its bank.</summary>
    UnknownAccount,

    /// <summary>The from- or to-account is closed.</summary>
    AccountClosed,

    /// <summary>The from-account's balance is less than the amount.</summary>
    InsufficientFunds,

    /// <summary>The credit would take the to-account over <see cref="AccountRules.BalanceWonMax"/>.</summary>
    BalanceLimitExceeded,
}

/// <summary>The bank's answer to an order, recorded once and returned for every repeat of its request id.</summary>
/// <summary>A transfer's recorded outcome. <c>FeeWon</c> is what the corporate account paid for it (0 when it failed or did not involve it).</summary>
public sealed record TransferRecord(TransferOrder Order, TransferStatus Status, TransferFailureReason? Reason, DateTimeOffset CompletedAt, long FeeWon = 0);

/// <summary>What the ledger did with an order.</summary>
public abstract record TransferResult
{
    private TransferResult()
    {
    }

    /// <summary>The order's outcome; <c>Replayed</c> when it was recorded by an earlier request with the same id.</summary>
    public sealed record Recorded(TransferRecord Record, bool Replayed) : TransferResult;

    /// <summary>The request id was first used with another order; nothing was done.</summary>
    public sealed record RequestIdReused(TransferRecord First) : TransferResult;

    /// <summary>The ledger remembers as many transfers as it may; nothing was done.</summary>
    public sealed record LedgerFull(int TransfersMax) : TransferResult;
}
