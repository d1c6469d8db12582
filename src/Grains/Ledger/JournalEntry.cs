namespace MyPay.Grains.Ledger;

/// <summary>
/// One money movement: postings that sum to zero (positive debits, negative credits). Grains append
/// entries to their state writes; the journal writer stores them in the same transaction.
/// </summary>
public sealed record JournalEntry
{
    public JournalEntry(string entryId, string kind, string? memberId, string? idempotencyKey, string? reference, DateTimeOffset createdAt, IReadOnlyList<Posting> postings)
    {
        // Invariants, not outcomes: an entry that breaks them is a bug and must never reach the ledger.
        if (postings.Count < 2 || postings.Sum(posting => posting.AmountWon) != 0 || postings.Any(posting => posting.AmountWon == 0))
        {
            throw new InvalidOperationException(
                $"Journal entry {entryId} is unbalanced or empty: {string.Join(", ", postings.Select(posting => $"{posting.Account} {posting.AmountWon}"))}.");
        }

        if (postings.DistinctBy(posting => posting.Account).Count() != postings.Count)
        {
            throw new InvalidOperationException($"Journal entry {entryId} posts to one account twice.");
        }

        EntryId = entryId;
        Kind = kind;
        MemberId = memberId;
        IdempotencyKey = idempotencyKey;
        Reference = reference;
        CreatedAt = createdAt;
        Postings = postings;
    }

    public string EntryId { get; }

    public string Kind { get; }

    public string? MemberId { get; }

    public string? IdempotencyKey { get; }

    public string? Reference { get; }

    public DateTimeOffset CreatedAt { get; }

    public IReadOnlyList<Posting> Postings { get; }

    /// <summary>What the bank charged the corporate account for a completed command: <c>bank_fee_expense → corporate_cash</c>, once per request id.</summary>
    public static JournalEntry BankFee(string firmbankingRequestId, string memberId, long feeWon, DateTimeOffset at) => new(
        $"bank-fee:{firmbankingRequestId}", "bank-fee", memberId, null, firmbankingRequestId, at,
        [new Posting(Accounts.BankFeeExpense, feeWon), new Posting(Accounts.CorporateCash, -feeWon)]);
}

/// <summary>A debit (positive) or credit (negative) to one account. The ledger records a wallet's balance after each of its postings.</summary>
public sealed record Posting(string Account, long AmountWon);

/// <summary>The ledger's account names.</summary>
public static class Accounts
{
    /// <summary>MyPay's corporate bank account (asset).</summary>
    public const string CorporateCash = "corporate_cash";

    /// <summary>Commission earned (revenue).</summary>
    public const string FeeRevenue = "fee_revenue";

    /// <summary>What banks charge MyPay (expense).</summary>
    public const string BankFeeExpense = "bank_fee_expense";

    public const string WalletPrefix = "wallet:";

    /// <summary>A member's "my money" (liability, never below zero).</summary>
    public static string Wallet(string memberId) => WalletPrefix + memberId;

    /// <summary>What MyPay owes a merchant until settlement (liability).</summary>
    public static string Receivable(string merchantId) => "receivable:" + merchantId;

    /// <summary>Money taken from a wallet for a bank remittance, until the bank moves it or refuses.</summary>
    public static string RemittanceHold(string remittanceId) => "hold:remittance:" + remittanceId;
}
