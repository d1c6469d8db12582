using System.Text.Json;
using Npgsql;

namespace MyPay.Grains.Ledger;

/// <summary>Reads the ledger: an account's history, and the ledger's self-check.</summary>
public sealed class LedgerQueries(NpgsqlDataSource dataSource)
{
    public const int PageSizeMax = 100;

    private static readonly string History = Load("history.sql");
    private static readonly string Check = Load("check.sql");

    /// <summary>A page of a wallet's changes, newest first, before <paramref name="beforePostingId"/> (exclusive).</summary>
    public async Task<IReadOnlyList<WalletChange>> WalletHistoryAsync(string memberId, long beforePostingId, int limit, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(limit, PageSizeMax);
        await using var command = dataSource.CreateCommand(History);
        command.Parameters.Add(new NpgsqlParameter<string>("account", Accounts.Wallet(memberId)));
        command.Parameters.Add(new NpgsqlParameter<long>("before", beforePostingId));
        command.Parameters.Add(new NpgsqlParameter<int>("limit", limit));
        var changes = new List<WalletChange>(limit);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            changes.Add(new WalletChange(
                reader.GetInt64(0),
                reader.GetString(1),
                reader.GetString(2),
                -reader.GetInt64(3),
                reader.IsDBNull(4) ? null : reader.GetInt64(4),
                reader.GetFieldValue<DateTimeOffset>(5),
                reader.IsDBNull(6) ? null : reader.GetString(6),
                reader.IsDBNull(7) ? null : reader.GetString(7)));
        }

        return changes;
    }

    public async Task<LedgerCheck> CheckAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(Check);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        var mismatches = JsonSerializer.Deserialize<List<WalletMismatch>>(reader.GetString(3), JsonSerializerOptions.Web) ?? [];
        return new LedgerCheck(
            TotalWon: reader.GetInt64(0),
            Entries: reader.GetInt64(1),
            UnbalancedEntries: reader.GetFieldValue<string[]>(2),
            WalletMismatches: mismatches,
            Wallets: reader.GetInt64(4),
            WalletsPostedWon: reader.GetInt64(5),
            WalletsTabledWon: reader.GetInt64(6),
            CorporateCashWon: reader.GetInt64(7),
            RechargesInFlight: reader.GetInt64(8),
            RemittancesInFlight: reader.GetInt64(9),
            SettlementsInFlight: reader.GetInt64(10));
    }

    /// <summary>
    /// corporate_cash's balance and the recharges, remittances and settlements in flight, as <see cref="CheckAsync"/>
    /// counts them: read again after asking the bank, so a comparison with the bank's balance is only made when no money
    /// moved between the two reads (a settlement sent in between would put the bank ahead of the first read).
    /// </summary>
    public async Task<(long CorporateCashWon, long InFlight)> CorporateCashAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            """
            SELECT (SELECT coalesce(sum(amount), 0) FROM ledger_posting WHERE account = 'corporate_cash'),
                   (SELECT count(*) FROM recharge WHERE status = 'pending')
                 + (SELECT count(*) FROM remittance WHERE finished_at IS NULL)
                 + (SELECT count(*) FROM settlement WHERE status = 'sending')
            """);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return (reader.GetInt64(0), reader.GetInt64(1));
    }

    private static string Load(string name)
    {
        using var stream = typeof(LedgerQueries).Assembly.GetManifestResourceStream($"MyPay.Grains.Ledger.Queries.{name}")
            ?? throw new InvalidOperationException($"Embedded SQL '{name}' is missing.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}

/// <summary>One change of a wallet: signed from the member's view (+ in, − out), with the balance after it.</summary>
public sealed record WalletChange(long PostingId, string EntryId, string Kind, long AmountWon, long? BalanceAfterWon, DateTimeOffset At, string? Reference, string? IdempotencyKey);

/// <summary>A wallet whose balance differs between its postings, the wallet_balance table and the grain's state.</summary>
public sealed record WalletMismatch(string MemberId, long Posted, long Tabled);

/// <summary>
/// The ledger's self-check. <see cref="WalletsPostedWon"/> and <see cref="WalletsTabledWon"/> are every wallet's balance
/// summed from the ledger's postings and from the wallet_balance table: equal when the wallets agree with the ledger.
/// </summary>
public sealed record LedgerCheck(
    long TotalWon,
    long Entries,
    IReadOnlyList<string> UnbalancedEntries,
    IReadOnlyList<WalletMismatch> WalletMismatches,
    long Wallets,
    long WalletsPostedWon,
    long WalletsTabledWon,
    long CorporateCashWon,
    long RechargesInFlight,
    long RemittancesInFlight,
    long SettlementsInFlight)
{
    public bool IsConsistent => TotalWon == 0 && UnbalancedEntries.Count == 0 && WalletMismatches.Count == 0;
}
