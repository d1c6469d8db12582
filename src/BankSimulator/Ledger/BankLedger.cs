using System.Data.Common;
using Microsoft.Extensions.Options;
using MyPay.BankSimulator.Accounts;
using MyPay.BankSimulator.Hosting;
using MyPay.BankSimulator.Transfers;
using Npgsql;

namespace MyPay.BankSimulator.Ledger;

/// <summary>
/// Every account and every transfer of every bank, kept in the bank's PostgreSQL database, so that they outlive the
/// process as a real bank's books do. A transfer is one transaction: it locks its accounts, checks its request id,
/// moves the money and records its outcome, and commits before it is answered. So a transfer is atomic, a request id
/// is applied at most once however many copies arrive together, no balance is ever seen half-moved, and whatever the
/// bank answered is still there after a crash.
/// </summary>
public sealed class BankLedger(NpgsqlDataSource database, IOptions<BankOptions> options, TimeProvider time)
{
    private const string AccountColumns = "bank_code, account_number, holder_name, status, balance_won";

    private const string TransferColumns =
        "request_id, from_bank_code, from_account_number, to_bank_code, to_account_number, amount_won, status, reason, completed_at, fee_won";

    private readonly int accountsMax = options.Value.AccountsMax;
    private readonly int transfersMax = options.Value.TransfersMax;
    private readonly AccountKey corporate = options.Value.CorporateAccount;
    private readonly long corporateFeeWon = options.Value.CorporateFeeWon;

    /// <summary>Opens an account, counted against <see cref="BankOptions.AccountsMax"/> in the same transaction.</summary>
    public async Task<OpenAccountResult> OpenAsync(Account account)
    {
        TransferPosting.Assert(account.BalanceWon is >= 0 and <= AccountRules.BalanceWonMax, $"Account {account.Key} would open with {account.BalanceWon} won.");
        await using var connection = await database.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await using var open = new NpgsqlCommand(
            $"""
            WITH opened AS (
                INSERT INTO bank_account ({AccountColumns}) VALUES (@bank_code, @account_number, @holder_name, @status, @balance_won)
                ON CONFLICT DO NOTHING
                RETURNING 1
            ), counted AS (
                UPDATE bank_ledger_size SET accounts = accounts + 1
                WHERE accounts < @accounts_max AND EXISTS (SELECT FROM opened)
                RETURNING 1
            )
            SELECT EXISTS (SELECT FROM opened), EXISTS (SELECT FROM counted)
            """,
            connection,
            transaction)
        {
            Parameters =
            {
                new("bank_code", account.Key.BankCode),
                new("account_number", account.Key.AccountNumber),
                new("holder_name", account.HolderName),
                new("status", StatusText(account.Status)),
                new("balance_won", account.BalanceWon),
                new("accounts_max", (long)accountsMax),
            },
        };
        var (opened, counted) = await ReadPairAsync(open);
        if (!opened)
        {
            return OpenAccountResult.AlreadyExists;
        }

        if (!counted)
        {
            return OpenAccountResult.LedgerFull;
        }

        await transaction.CommitAsync();
        return OpenAccountResult.Opened;
    }

    public async Task<Account?> FindAccountAsync(AccountKey key, CancellationToken cancellationToken)
    {
        await using var find = database.CreateCommand($"SELECT {AccountColumns} FROM bank_account WHERE bank_code = @bank_code AND account_number = @account_number");
        find.Parameters.AddWithValue("bank_code", key.BankCode);
        find.Parameters.AddWithValue("account_number", key.AccountNumber);
        return (await ReadAccountsAsync(find, cancellationToken)).SingleOrDefault();
    }

    /// <summary>Opens or closes an account; null when there is no such account.</summary>
    public async Task<Account?> ChangeStatusAsync(AccountKey key, AccountStatus status)
    {
        await using var change = database.CreateCommand(
            $"UPDATE bank_account SET status = @status WHERE bank_code = @bank_code AND account_number = @account_number RETURNING {AccountColumns}");
        change.Parameters.AddWithValue("status", StatusText(status));
        change.Parameters.AddWithValue("bank_code", key.BankCode);
        change.Parameters.AddWithValue("account_number", key.AccountNumber);
        return (await ReadAccountsAsync(change, CancellationToken.None)).SingleOrDefault();
    }

    /// <summary>The corporate account's statement: every transfer that moved its money, in the order the bank applied them.</summary>
    public async Task<IReadOnlyList<TransferRecord>> CorporateStatementAsync(CancellationToken cancellationToken)
    {
        await using var statement = database.CreateCommand(
            $"""
            SELECT {TransferColumns} FROM bank_transfer
            WHERE status = 'succeeded'
              AND ((from_bank_code = @bank_code AND from_account_number = @account_number) OR (to_bank_code = @bank_code AND to_account_number = @account_number))
            ORDER BY position
            """);
        statement.Parameters.AddWithValue("bank_code", corporate.BankCode);
        statement.Parameters.AddWithValue("account_number", corporate.AccountNumber);
        return await ReadTransfersAsync(statement, cancellationToken);
    }

    public async Task<TransferRecord?> FindTransferAsync(string requestId, CancellationToken cancellationToken)
    {
        await using var find = database.CreateCommand($"SELECT {TransferColumns} FROM bank_transfer WHERE request_id = @request_id");
        find.Parameters.AddWithValue("request_id", requestId);
        return (await ReadTransfersAsync(find, cancellationToken)).SingleOrDefault();
    }

    /// <summary>
    /// Applies an order once. A repeat of a recorded request id gets the first outcome, whatever the balances are
    /// now; the same id with another order is refused. A refusal (insufficient funds, a closed account) is recorded
    /// like a success, so its repeats are refused too. Not cancellable: once begun, a transfer is decided and committed.
    /// </summary>
    public async Task<TransferResult> TransferAsync(TransferOrder order)
    {
        await using var connection = await database.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();

        // Locked in key order, so two transfers sharing accounts never wait on each other in a cycle. The request id
        // is read after the locks: a copy of this order that held them has committed by then, and is seen.
        await using var lockAccounts = new NpgsqlCommand(
            $"""
            SELECT {AccountColumns} FROM bank_account
            WHERE (bank_code, account_number) IN ((@from_bank_code, @from_account_number), (@to_bank_code, @to_account_number))
            ORDER BY bank_code, account_number
            FOR UPDATE
            """,
            connection,
            transaction);
        AddOrderKeys(lockAccounts.Parameters, order);
        var accounts = (await ReadAccountsAsync(lockAccounts, CancellationToken.None)).ToDictionary(account => account.Key);
        if (await FindTransferAsync(connection, transaction, order.RequestId) is { } first)
        {
            return Repeated(order, first);
        }

        var (record, changed) = new TransferPosting(accounts, corporate, corporateFeeWon).Post(order, Microseconds(time.GetUtcNow()));
        await using var write = new NpgsqlCommand(
            $"""
            WITH recorded AS (
                INSERT INTO bank_transfer ({TransferColumns})
                VALUES (@request_id, @from_bank_code, @from_account_number, @to_bank_code, @to_account_number, @amount_won, @status, @reason, @completed_at, @fee_won)
                ON CONFLICT (request_id) DO NOTHING
                RETURNING 1
            ), counted AS (
                UPDATE bank_ledger_size SET transfers = transfers + 1
                WHERE transfers < @transfers_max AND EXISTS (SELECT FROM recorded)
                RETURNING 1
            ), moved AS (
                UPDATE bank_account SET balance_won = changed.balance_won
                FROM unnest(@changed_bank_codes, @changed_account_numbers, @changed_balances_won) AS changed (bank_code, account_number, balance_won)
                WHERE bank_account.bank_code = changed.bank_code AND bank_account.account_number = changed.account_number
                  AND EXISTS (SELECT FROM counted)
            )
            SELECT EXISTS (SELECT FROM recorded), EXISTS (SELECT FROM counted)
            """,
            connection,
            transaction);
        AddOrderKeys(write.Parameters, order);
        write.Parameters.AddWithValue("request_id", order.RequestId);
        write.Parameters.AddWithValue("amount_won", order.AmountWon);
        write.Parameters.AddWithValue("status", record.Status == TransferStatus.Succeeded ? "succeeded" : "failed");
        write.Parameters.AddWithValue("reason", (object?)record.Reason?.ToString() ?? DBNull.Value);
        write.Parameters.AddWithValue("completed_at", record.CompletedAt);
        write.Parameters.AddWithValue("fee_won", record.FeeWon);
        write.Parameters.AddWithValue("transfers_max", (long)transfersMax);
        write.Parameters.AddWithValue("changed_bank_codes", changed.Select(account => account.Key.BankCode).ToArray());
        write.Parameters.AddWithValue("changed_account_numbers", changed.Select(account => account.Key.AccountNumber).ToArray());
        write.Parameters.AddWithValue("changed_balances_won", changed.Select(account => account.BalanceWon).ToArray());
        var (recorded, counted) = await ReadPairAsync(write);
        if (!recorded)
        {
            // A copy whose accounts do not exist locked nothing, and recorded its id first: answer with its outcome.
            await transaction.RollbackAsync();
            return Repeated(order, await FindTransferAsync(connection, null, order.RequestId)
                ?? throw new InvalidOperationException($"Transfer {order.RequestId} conflicted with a recorded transfer that cannot be read back."));
        }

        if (!counted)
        {
            return new TransferResult.LedgerFull(transfersMax);
        }

        await transaction.CommitAsync();
        return new TransferResult.Recorded(record, Replayed: false);
    }

    private static TransferResult Repeated(TransferOrder order, TransferRecord first) => first.Order == order
        ? new TransferResult.Recorded(first, Replayed: true)
        : new TransferResult.RequestIdReused(first);

    private static async Task<TransferRecord?> FindTransferAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string requestId)
    {
        await using var find = new NpgsqlCommand($"SELECT {TransferColumns} FROM bank_transfer WHERE request_id = @request_id", connection, transaction);
        find.Parameters.AddWithValue("request_id", requestId);
        return (await ReadTransfersAsync(find, CancellationToken.None)).SingleOrDefault();
    }

    private static void AddOrderKeys(NpgsqlParameterCollection parameters, TransferOrder order)
    {
        parameters.AddWithValue("from_bank_code", order.From.BankCode);
        parameters.AddWithValue("from_account_number", order.From.AccountNumber);
        parameters.AddWithValue("to_bank_code", order.To.BankCode);
        parameters.AddWithValue("to_account_number", order.To.AccountNumber);
    }

    /// <summary>PostgreSQL keeps microseconds: the time is rounded down to them before it is answered, so a replay read back from the database answers the same bytes.</summary>
    private static DateTimeOffset Microseconds(DateTimeOffset time) => new(time.UtcTicks - (time.UtcTicks % 10), TimeSpan.Zero);

    private static string StatusText(AccountStatus status) => status == AccountStatus.Open ? "open" : "closed";

    private static async Task<(bool First, bool Second)> ReadPairAsync(NpgsqlCommand command)
    {
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return (reader.GetBoolean(0), reader.GetBoolean(1));
    }

    private static async Task<List<Account>> ReadAccountsAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var accounts = new List<Account>();
        while (await reader.ReadAsync(cancellationToken))
        {
            accounts.Add(new Account(
                new AccountKey(reader.GetString(0), reader.GetString(1)),
                reader.GetString(2),
                reader.GetString(3) == "open" ? AccountStatus.Open : AccountStatus.Closed,
                reader.GetInt64(4)));
        }

        return accounts;
    }

    private static async Task<List<TransferRecord>> ReadTransfersAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var transfers = new List<TransferRecord>();
        while (await reader.ReadAsync(cancellationToken))
        {
            transfers.Add(ReadTransfer(reader));
        }

        return transfers;
    }

    private static TransferRecord ReadTransfer(DbDataReader reader) => new(
        new TransferOrder(
            reader.GetString(0),
            new AccountKey(reader.GetString(1), reader.GetString(2)),
            new AccountKey(reader.GetString(3), reader.GetString(4)),
            reader.GetInt64(5)),
        reader.GetString(6) == "succeeded" ? TransferStatus.Succeeded : TransferStatus.Failed,
        reader.IsDBNull(7) ? null : Enum.Parse<TransferFailureReason>(reader.GetString(7)),
        new DateTimeOffset(reader.GetFieldValue<DateTime>(8), TimeSpan.Zero),
        reader.GetInt64(9));
}

public enum OpenAccountResult
{
    Opened,
    AlreadyExists,
    LedgerFull,
}

public static class LedgerSetup
{
    public static IServiceCollection AddBankLedger(this IServiceCollection services)
    {
        services.AddBankDatabase();
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<BankLedger>();
        return services;
    }
}
