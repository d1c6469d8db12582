using MyPay.Testing;
using Npgsql;

namespace MyPay.Api.Tests;

/// <summary>
/// The ledger's tables defend its rules on their own, whatever a writer sends: entries sum to zero, postings
/// belong to entries that exist, nothing is edited or deleted, no wallet goes below zero.
/// </summary>
public sealed class LedgerSchemaTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>, IAsyncLifetime
{
    private MyPayApp app = null!;
    private NpgsqlDataSource dataSource = null!;

    public async Task InitializeAsync()
    {
        // The node applies the migrations; the tests then write to the tables directly.
        app = new MyPayApp(database.ConnectionString);
        (await app.CreateReadyClientAsync()).Dispose();
        dataSource = database.CreateDataSource();
    }

    public async Task DisposeAsync()
    {
        await dataSource.DisposeAsync();
        await app.DisposeAsync();
    }

    [Fact]
    public async Task BalancedEntry_IsStored()
    {
        await EntryAsync("balanced");

        await ExecuteAsync("INSERT INTO ledger_posting (entry_id, account, amount) VALUES ('balanced', 'a', 100), ('balanced', 'b', -100)");

        Assert.Equal(2L, await ScalarAsync("SELECT count(*) FROM ledger_posting WHERE entry_id = 'balanced'"));
    }

    [Fact]
    public async Task UnbalancedEntry_IsRefused()
    {
        await EntryAsync("unbalanced");

        var refused = await Assert.ThrowsAsync<PostgresException>(() =>
            ExecuteAsync("INSERT INTO ledger_posting (entry_id, account, amount) VALUES ('unbalanced', 'a', 100), ('unbalanced', 'b', -99)"));

        Assert.Equal(PostgresErrorCodes.CheckViolation, refused.SqlState);
        Assert.Equal(0L, await ScalarAsync("SELECT count(*) FROM ledger_posting WHERE entry_id = 'unbalanced'"));
    }

    [Fact]
    public async Task PostingsToAnEntryThatDoesNotExist_AreRefused_EvenBesideOneThatDoes()
    {
        await EntryAsync("exists");

        var refused = await Assert.ThrowsAsync<PostgresException>(() => ExecuteAsync(
            "INSERT INTO ledger_posting (entry_id, account, amount) VALUES ('exists', 'a', 5), ('exists', 'b', -5), ('missing', 'a', 7), ('missing', 'b', -7)"));

        Assert.Equal(PostgresErrorCodes.ForeignKeyViolation, refused.SqlState);
        Assert.Equal(0L, await ScalarAsync("SELECT count(*) FROM ledger_posting WHERE entry_id IN ('exists', 'missing')"));
    }

    [Theory]
    [InlineData("UPDATE ledger_posting SET amount = amount * 2 WHERE entry_id = 'kept'")]
    [InlineData("DELETE FROM ledger_posting WHERE entry_id = 'kept'")]
    [InlineData("UPDATE ledger_entry SET kind = 'edited' WHERE entry_id = 'kept'")]
    [InlineData("DELETE FROM ledger_entry WHERE entry_id = 'kept'")]
    public async Task StoredEntries_CannotBeEditedOrDeleted(string change)
    {
        if (await ScalarAsync("SELECT count(*) FROM ledger_entry WHERE entry_id = 'kept'") == 0)
        {
            await EntryAsync("kept");
            await ExecuteAsync("INSERT INTO ledger_posting (entry_id, account, amount) VALUES ('kept', 'a', 1), ('kept', 'b', -1)");
        }

        var refused = await Assert.ThrowsAsync<PostgresException>(() => ExecuteAsync(change));

        Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, refused.SqlState);
        Assert.Equal(2L, await ScalarAsync("SELECT count(*) FROM ledger_posting WHERE entry_id = 'kept' AND abs(amount) = 1"));
    }

    [Fact]
    public async Task WalletBalance_BelowZero_IsRefused()
    {
        await ExecuteAsync("INSERT INTO wallet_balance (member_id, balance) VALUES ('m-schema', 10)");

        var refused = await Assert.ThrowsAsync<PostgresException>(() => ExecuteAsync("UPDATE wallet_balance SET balance = balance - 11 WHERE member_id = 'm-schema'"));

        Assert.Equal(PostgresErrorCodes.CheckViolation, refused.SqlState);
        Assert.Equal(10L, await ScalarAsync("SELECT balance FROM wallet_balance WHERE member_id = 'm-schema'"));
    }

    private Task EntryAsync(string entryId) => ExecuteAsync(
        $"INSERT INTO ledger_entry (entry_id, kind, created_at) VALUES ('{entryId}', 'test', now())");

    private async Task ExecuteAsync(string sql)
    {
        await using var command = dataSource.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }

    private async Task<long> ScalarAsync(string sql)
    {
        await using var command = dataSource.CreateCommand(sql);
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }
}
