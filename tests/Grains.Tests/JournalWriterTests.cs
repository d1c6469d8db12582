using Microsoft.Extensions.DependencyInjection;
using MyPay.Grains.Ledger;
using Npgsql;

namespace MyPay.Grains.Tests;

/// <summary>
/// The journal writer's statements on their own, as the group commit runs them: a batch's entries, postings and wallet
/// balances in one transaction. A wallet posting's balance_after follows the wallet's balance through the batch in
/// posting order, whoever's entry moved it, and a batch that would take a wallet below zero writes nothing.
/// </summary>
public sealed class JournalWriterTests(GrainHost host) : IClassFixture<GrainHost>
{
    private static readonly DateTimeOffset Now = new(2026, 12, 3, 9, 0, 0, TimeSpan.Zero);

    // The tests share one database: each names members and entries of its own.
    private readonly string payer = $"m-{Guid.NewGuid():N}";
    private readonly string friend = $"m-{Guid.NewGuid():N}";

    private NpgsqlDataSource Database => host.Services.GetRequiredService<NpgsqlDataSource>();

    [Fact]
    public async Task OneBatch_MovesEachWalletOnce_AndEachPostingCarriesTheBalanceAfterIt()
    {
        await WriteAsync(Entry("fund", (Accounts.CorporateCash, 1_000), (Accounts.Wallet(payer), -1_000)));

        await WriteAsync(
            Entry("pay", (Accounts.Wallet(payer), 300), (Accounts.Receivable("shop"), -300)),
            Entry("send", (Accounts.Wallet(payer), 200), (Accounts.Wallet(friend), -200)),
            Entry("spend", (Accounts.Wallet(friend), 50), (Accounts.FeeRevenue, -50)));

        Assert.Equal(
            [(EntryId("fund"), 1_000L), (EntryId("pay"), 700L), (EntryId("send"), 500L)],
            await BalancesAfterAsync(payer));
        Assert.Equal([(EntryId("send"), 200L), (EntryId("spend"), 150L)], await BalancesAfterAsync(friend));
        Assert.Equal(500L, await WalletBalanceAsync(payer));
        Assert.Equal(150L, await WalletBalanceAsync(friend));
    }

    [Fact]
    public async Task ABatch_TakingAWalletBelowZero_WritesNothing()
    {
        await WriteAsync(Entry("fund", (Accounts.CorporateCash, 100), (Accounts.Wallet(payer), -100)));

        var refused = await Assert.ThrowsAsync<PostgresException>(() => WriteAsync(
            Entry("first", (Accounts.Wallet(payer), 60), (Accounts.Receivable("shop"), -60)),
            Entry("second", (Accounts.Wallet(payer), 60), (Accounts.Receivable("shop"), -60))));

        Assert.Equal(PostgresErrorCodes.CheckViolation, refused.SqlState);
        Assert.Equal([(EntryId("fund"), 100L)], await BalancesAfterAsync(payer));
        Assert.Equal(100L, await WalletBalanceAsync(payer));
    }

    [Fact]
    public async Task ADebit_FromAWalletTheLedgerNeverCredited_WritesNothing()
    {
        // No statement adds a row for a wallet the batch only debits: its postings' balance_after refuses the batch.
        var refused = await Assert.ThrowsAsync<PostgresException>(() => WriteAsync(
            Entry("pay", (Accounts.Wallet(payer), 60), (Accounts.Receivable("shop"), -60))));

        Assert.Equal(PostgresErrorCodes.CheckViolation, refused.SqlState);
        Assert.Empty(await BalancesAfterAsync(payer));
        Assert.Null(await WalletBalanceOrNullAsync(payer));
    }

    private string EntryId(string name) => $"test:{payer}:{name}";

    private JournalEntry Entry(string name, params (string Account, long AmountWon)[] postings) =>
        new(EntryId(name), "test", payer, null, null, Now, [.. postings.Select(posting => new Posting(posting.Account, posting.AmountWon))]);

    /// <summary>Writes the entries as one group commit does: the writer's statements, then COMMIT, in one round trip.</summary>
    private async Task WriteAsync(params JournalEntry[] entries)
    {
        await using var connection = await Database.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await using var batch = new NpgsqlBatch(connection, transaction);
        new JournalWriter().AddCommands(batch, entries);
        batch.BatchCommands.Add(new NpgsqlBatchCommand("COMMIT"));
        await batch.ExecuteNonQueryAsync();
    }

    private async Task<List<(string EntryId, long BalanceAfter)>> BalancesAfterAsync(string memberId)
    {
        await using var command = Database.CreateCommand(
            "SELECT entry_id, balance_after FROM ledger_posting WHERE account = $1 ORDER BY posting_id");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = Accounts.Wallet(memberId) });
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<(string, long)>();
        while (await reader.ReadAsync())
        {
            rows.Add((reader.GetString(0), reader.GetInt64(1)));
        }

        return rows;
    }

    private async Task<long> WalletBalanceAsync(string memberId) =>
        await WalletBalanceOrNullAsync(memberId) ?? throw new InvalidOperationException($"Wallet {memberId} has no wallet_balance row.");

    private async Task<long?> WalletBalanceOrNullAsync(string memberId)
    {
        await using var command = Database.CreateCommand("SELECT balance FROM wallet_balance WHERE member_id = $1");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = memberId });
        return (long?)await command.ExecuteScalarAsync();
    }
}
