namespace MyPay.BankSimulator.Accounts;

/// <summary>
/// Where an account lives: its bank and its number. Numbers compare exactly as sent, dashes included,
/// so "110-123-456789" and "110123456789" are two different accounts.
/// </summary>
public readonly record struct AccountKey(string BankCode, string AccountNumber)
{
    public override string ToString() => $"{BankCode} {AccountNumber}";
}

public enum AccountStatus
{
    Open,
    Closed,
}

/// <summary>
/// An account as the ledger holds it. Immutable: the ledger replaces it under its lock, so a reader
/// never sees a balance half-way through a transfer.
/// </summary>
public sealed record Account(AccountKey Key, string HolderName, AccountStatus Status, long BalanceWon);

/// <summary>An account on the wire. <c>Balance</c> is in whole won.</summary>
public sealed record AccountResponse(string BankCode, string AccountNumber, string HolderName, AccountStatus Status, long Balance)
{
    public static AccountResponse Of(Account account) =>
        new(account.Key.BankCode, account.Key.AccountNumber, account.HolderName, account.Status, account.BalanceWon);
}

/// <summary>
/// The body of <c>POST /accounts</c>, and of each entry of the seed file. Every member is nullable so
/// that a missing field is reported by name rather than as unreadable JSON.
/// </summary>
public sealed record OpenAccountRequest(string? BankCode, string? AccountNumber, string? HolderName, long? Balance, AccountStatus? Status);

/// <summary>The body of <c>PATCH /banks/{bankCode}/accounts/{accountNumber}</c>.</summary>
public sealed record ChangeAccountRequest(AccountStatus? Status);
