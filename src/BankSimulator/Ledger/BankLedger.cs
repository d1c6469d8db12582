using System.Collections.Concurrent;
using System.Data.Common;
using Microsoft.Extensions.Options;
using MyPay.BankSimulator.Accounts;
using MyPay.BankSimulator.Hosting;
using MyPay.BankSimulator.Transfers;
using Npgsql;

namespace MyPay.BankSimulator.Ledger;

/// <summary>
/// Every account and every transfer of every bank, kept in the bank's PostgreSQL database, so that they outlive the
/// process as a real bank's books do. Transfers are decided and committed in groups, one group at a time: a group's
/// transaction locks its accounts, reads which request ids are recorded, decides each order in arrival order against
/// the balances the ones before it left, writes the new transfers and balances, and commits before anyone is answered.
/// So a transfer is atomic, a request id is applied at most once however many copies arrive together, no balance is
/// ever seen half-moved, and whatever the bank answered is still there after a crash. One bank process per database.
/// </summary>
public sealed class BankLedger(NpgsqlDataSource database, IOptions<BankOptions> options, TimeProvider time) : IDisposable
{
    /// <summary>Most orders one commit carries: a bound on a transaction's size and on how long its callers wait.</summary>
    public const int TransfersPerCommitMax = 256;

    private const string AccountColumns = "bank_code, account_number, holder_name, status, balance_won";

    private const string TransferColumns =
        "request_id, from_bank_code, from_account_number, to_bank_code, to_account_number, amount_won, status, reason, completed_at, fee_won";

    private readonly int accountsMax = options.Value.AccountsMax;
    private readonly int transfersMax = options.Value.TransfersMax;
    private readonly AccountKey corporate = options.Value.CorporateAccount;
    private readonly long corporateFeeWon = options.Value.CorporateFeeWon;
    private readonly SemaphoreSlim transferGate = new(1, 1);
    private readonly ConcurrentQueue<PendingTransfer> waiting = new();

    public void Dispose() => transferGate.Dispose();

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
    /// like a success, so its repeats are refused too. Answered once committed; not cancellable: once begun, a
    /// transfer is decided and committed.
    /// </summary>
    /// <remarks>
    /// Orders are committed in groups, in arrival order, one group at a time (as the in-memory ledger's single lock
    /// ran them one at a time): nearly every transfer takes the corporate account, so they cannot run side by side,
    /// and one commit per transfer capped the bank at a few dozen transfers a second on a busy machine (a thousand
    /// concurrent recharges took minutes). Whoever holds the gate commits every order waiting, up to
    /// <see cref="TransfersPerCommitMax"/>; the others find theirs answered when they get the gate.
    /// </remarks>
    public async Task<TransferResult> TransferAsync(TransferOrder order)
    {
        var pending = new PendingTransfer(order);
        waiting.Enqueue(pending);
        while (!pending.Answer.Task.IsCompleted)
        {
            await transferGate.WaitAsync();
            try
            {
                if (!pending.Answer.Task.IsCompleted)
                {
                    var group = new List<PendingTransfer>();
                    while (group.Count < TransfersPerCommitMax && waiting.TryDequeue(out var next))
                    {
                        group.Add(next);
                    }

                    await CommitAsync(group);
                }
            }
            finally
            {
                transferGate.Release();
            }
        }

        return await pending.Answer.Task;
    }

    /// <summary>Decides and commits a group of orders in one transaction, then answers each; a failed commit fails them all, and applies none.</summary>
    private async Task CommitAsync(List<PendingTransfer> group)
    {
        try
        {
            var answers = await DecideAndWriteAsync([.. group.Select(pending => pending.Order)]);
            for (var index = 0; index < group.Count; index++)
            {
                group[index].Answer.SetResult(answers[index]);
            }
        }
        catch (Exception exception)
        {
            foreach (var pending in group)
            {
                pending.Answer.TrySetException(exception);
            }
        }
    }

    private async Task<List<TransferResult>> DecideAndWriteAsync(IReadOnlyList<TransferOrder> orders)
    {
        await using var connection = await database.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();

        // In one round trip: the orders' accounts, locked in key order (so another writer never waits on this one in a
        // cycle), then the request ids already recorded and the count of transfers.
        AccountKey[] keys = [.. orders.SelectMany(order => new[] { order.From, order.To }).Distinct()];
        await using var read = new NpgsqlBatch(connection, transaction);
        read.BatchCommands.Add(new NpgsqlBatchCommand(
            $"""
            SELECT {AccountColumns} FROM bank_account
            WHERE (bank_code, account_number) IN (SELECT * FROM unnest(@bank_codes, @account_numbers))
            ORDER BY bank_code, account_number
            FOR UPDATE
            """)
        {
            Parameters = { new("bank_codes", keys.Select(key => key.BankCode).ToArray()), new("account_numbers", keys.Select(key => key.AccountNumber).ToArray()) },
        });
        read.BatchCommands.Add(new NpgsqlBatchCommand($"SELECT {TransferColumns} FROM bank_transfer WHERE request_id = ANY (@request_ids)")
        {
            Parameters = { new("request_ids", orders.Select(order => order.RequestId).Distinct().ToArray()) },
        });
        read.BatchCommands.Add(new NpgsqlBatchCommand("SELECT transfers FROM bank_ledger_size"));
        Dictionary<AccountKey, Account> accounts;
        Dictionary<string, TransferRecord> recorded;
        long transfersCount;
        await using (var reader = await read.ExecuteReaderAsync())
        {
            accounts = (await ReadAllAsync(reader, ReadAccount)).ToDictionary(account => account.Key);
            await reader.NextResultAsync();
            recorded = (await ReadAllAsync(reader, ReadTransfer)).ToDictionary(record => record.Order.RequestId, StringComparer.Ordinal);
            await reader.NextResultAsync();
            await reader.ReadAsync();
            transfersCount = reader.GetInt64(0);
        }

        // Each order in arrival order, against the balances the ones before it left.
        var answers = new List<TransferResult>(orders.Count);
        var added = new List<TransferRecord>();
        var changed = new Dictionary<AccountKey, Account>();
        var posting = new TransferPosting(accounts, corporate, corporateFeeWon);
        foreach (var order in orders)
        {
            if (recorded.TryGetValue(order.RequestId, out var first))
            {
                answers.Add(Repeated(order, first));
                continue;
            }

            if (transfersCount + added.Count >= transfersMax)
            {
                answers.Add(new TransferResult.LedgerFull(transfersMax));
                continue;
            }

            var (record, moved) = posting.Post(order, Microseconds(time.GetUtcNow()));
            foreach (var account in moved)
            {
                accounts[account.Key] = changed[account.Key] = account;
            }

            recorded[order.RequestId] = record;
            added.Add(record);
            answers.Add(new TransferResult.Recorded(record, Replayed: false));
        }

        if (added.Count > 0)
        {
            await WriteAsync(connection, transaction, added, changed.Values);
            await transaction.CommitAsync();
        }

        return answers;
    }

    /// <summary>The new transfers (in order, so their positions follow it), their count, and the balances they left, in one statement.</summary>
    private static async Task WriteAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, List<TransferRecord> added, IEnumerable<Account> changed)
    {
        await using var write = new NpgsqlCommand(
            $"""
            WITH recorded AS (
                INSERT INTO bank_transfer ({TransferColumns})
                SELECT request_id, from_bank_code, from_account_number, to_bank_code, to_account_number, amount_won, status, reason, completed_at, fee_won
                FROM unnest(@request_ids, @from_bank_codes, @from_account_numbers, @to_bank_codes, @to_account_numbers, @amounts_won, @statuses, @reasons, @completed_ats, @fees_won)
                    WITH ORDINALITY AS added (request_id, from_bank_code, from_account_number, to_bank_code, to_account_number, amount_won, status, reason, completed_at, fee_won, arrival)
                ORDER BY arrival
            ), counted AS (
                UPDATE bank_ledger_size SET transfers = transfers + cardinality(@request_ids)
            )
            UPDATE bank_account SET balance_won = changed.balance_won
            FROM unnest(@changed_bank_codes, @changed_account_numbers, @changed_balances_won) AS changed (bank_code, account_number, balance_won)
            WHERE bank_account.bank_code = changed.bank_code AND bank_account.account_number = changed.account_number
            """,
            connection,
            transaction);
        write.Parameters.AddWithValue("request_ids", added.Select(record => record.Order.RequestId).ToArray());
        write.Parameters.AddWithValue("from_bank_codes", added.Select(record => record.Order.From.BankCode).ToArray());
        write.Parameters.AddWithValue("from_account_numbers", added.Select(record => record.Order.From.AccountNumber).ToArray());
        write.Parameters.AddWithValue("to_bank_codes", added.Select(record => record.Order.To.BankCode).ToArray());
        write.Parameters.AddWithValue("to_account_numbers", added.Select(record => record.Order.To.AccountNumber).ToArray());
        write.Parameters.AddWithValue("amounts_won", added.Select(record => record.Order.AmountWon).ToArray());
        write.Parameters.AddWithValue("statuses", added.Select(record => record.Status == TransferStatus.Succeeded ? "succeeded" : "failed").ToArray());
        write.Parameters.AddWithValue("reasons", added.Select(record => record.Reason?.ToString()).ToArray());
        write.Parameters.AddWithValue("completed_ats", added.Select(record => record.CompletedAt).ToArray());
        write.Parameters.AddWithValue("fees_won", added.Select(record => record.FeeWon).ToArray());
        write.Parameters.AddWithValue("changed_bank_codes", changed.Select(account => account.Key.BankCode).ToArray());
        write.Parameters.AddWithValue("changed_account_numbers", changed.Select(account => account.Key.AccountNumber).ToArray());
        write.Parameters.AddWithValue("changed_balances_won", changed.Select(account => account.BalanceWon).ToArray());
        await write.ExecuteNonQueryAsync();
    }

    /// <summary>An order waiting for its group's commit.</summary>
    private sealed record PendingTransfer(TransferOrder Order)
    {
        public TaskCompletionSource<TransferResult> Answer { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private static TransferResult Repeated(TransferOrder order, TransferRecord first) => first.Order == order
        ? new TransferResult.Recorded(first, Replayed: true)
        : new TransferResult.RequestIdReused(first);

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
        return await ReadAllAsync(reader, ReadAccount, cancellationToken);
    }

    private static async Task<List<TransferRecord>> ReadTransfersAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await ReadAllAsync(reader, ReadTransfer, cancellationToken);
    }

    /// <summary>The rows of the reader's current result.</summary>
    private static async Task<List<T>> ReadAllAsync<T>(DbDataReader reader, Func<DbDataReader, T> read, CancellationToken cancellationToken = default)
    {
        var rows = new List<T>();
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(read(reader));
        }

        return rows;
    }

    private static Account ReadAccount(DbDataReader reader) => new(
        new AccountKey(reader.GetString(0), reader.GetString(1)),
        reader.GetString(2),
        reader.GetString(3) == "open" ? AccountStatus.Open : AccountStatus.Closed,
        reader.GetInt64(4));

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
