using Microsoft.Extensions.Options;
using MyPay.BankSimulator.Accounts;
using MyPay.BankSimulator.Banks;
using MyPay.BankSimulator.Hosting;
using MyPay.BankSimulator.Transfers;

namespace MyPay.BankSimulator.Ledger;

/// <summary>
/// Every account and every transfer of every bank, in memory. One lock guards all of it: a transfer
/// checks both accounts, moves the money and records its outcome in one critical section, so it is
/// atomic, a request id is applied at most once however many copies arrive together, and no balance is
/// ever seen half-moved. A simulator's throughput needs nothing finer, and nothing finer is this easy
/// to trust. A restart forgets everything but the seed.
/// </summary>
public sealed class BankLedger(IOptions<BankOptions> options, TimeProvider time)
{
    private readonly Lock gate = new();
    private readonly Dictionary<AccountKey, Account> accounts = [];
    private readonly Dictionary<string, TransferRecord> transfers = new(StringComparer.Ordinal);
    private readonly int accountsMax = options.Value.AccountsMax;
    private readonly int transfersMax = options.Value.TransfersMax;
    private readonly AccountKey corporate = options.Value.CorporateAccount;
    private readonly long corporateFeeWon = options.Value.CorporateFeeWon;

    public OpenAccountResult Open(Account account)
    {
        Assert(account.BalanceWon is >= 0 and <= AccountRules.BalanceWonMax, $"Account {account.Key} would open with {account.BalanceWon} won.");
        lock (gate)
        {
            if (accounts.ContainsKey(account.Key))
            {
                return OpenAccountResult.AlreadyExists;
            }

            if (accounts.Count >= accountsMax)
            {
                return OpenAccountResult.LedgerFull;
            }

            accounts.Add(account.Key, account);
            return OpenAccountResult.Opened;
        }
    }

    public Account? FindAccount(AccountKey key)
    {
        lock (gate)
        {
            return accounts.GetValueOrDefault(key);
        }
    }

    /// <summary>Opens or closes an account; null when there is no such account.</summary>
    public Account? ChangeStatus(AccountKey key, AccountStatus status)
    {
        lock (gate)
        {
            if (!accounts.TryGetValue(key, out var account))
            {
                return null;
            }

            var changed = account with { Status = status };
            accounts[key] = changed;
            return changed;
        }
    }

    /// <summary>The corporate account's statement: every transfer that moved its money, oldest first.</summary>
    public IReadOnlyList<TransferRecord> CorporateStatement()
    {
        lock (gate)
        {
            return [.. transfers.Values
                .Where(record => record.Status == TransferStatus.Succeeded && (record.Order.From == corporate || record.Order.To == corporate))
                .OrderBy(record => record.CompletedAt)];
        }
    }

    public TransferRecord? FindTransfer(string requestId)
    {
        lock (gate)
        {
            return transfers.GetValueOrDefault(requestId);
        }
    }

    /// <summary>
    /// Applies an order once. A repeat of a recorded request id gets the first outcome, whatever the
    /// balances are now; the same id with another order is refused. A refusal (insufficient funds, a
    /// closed account) is recorded like a success, so its repeats are refused too.
    /// </summary>
    public TransferResult Transfer(TransferOrder order)
    {
        // Endpoints refuse these; a transfer to itself would credit a stale copy and create money.
        Assert(order.From != order.To, $"Transfer {order.RequestId} is from and to {order.From}.");
        Assert(order.AmountWon is > 0 and <= AccountRules.BalanceWonMax, $"Transfer {order.RequestId} is for {order.AmountWon} won.");

        lock (gate)
        {
            if (transfers.TryGetValue(order.RequestId, out var first))
            {
                return first.Order == order
                    ? new TransferResult.Recorded(first, Replayed: true)
                    : new TransferResult.RequestIdReused(first);
            }

            if (transfers.Count >= transfersMax)
            {
                return new TransferResult.LedgerFull(transfersMax);
            }

            var feeWon = order.From == corporate || order.To == corporate ? corporateFeeWon : 0;
            var reason = Refusal(order) ?? FeeRefusal(order, feeWon);
            if (reason is null)
            {
                Move(order);
                ChargeFee(feeWon);
            }

            var record = new TransferRecord(
                order, reason is null ? TransferStatus.Succeeded : TransferStatus.Failed, reason, time.GetUtcNow(), reason is null ? feeWon : 0);
            transfers.Add(order.RequestId, record);
            return new TransferResult.Recorded(record, Replayed: false);
        }
    }

    /// <summary>Why the order cannot be applied, checked in the order a bank would; null when it can.</summary>
    private TransferFailureReason? Refusal(TransferOrder order)
    {
        var fromAccount = accounts.GetValueOrDefault(order.From);
        var toAccount = accounts.GetValueOrDefault(order.To);
        if (!BankDirectory.Exists(order.From.BankCode) || !BankDirectory.Exists(order.To.BankCode))
        {
            return TransferFailureReason.UnknownBank;
        }

        if (fromAccount is null || toAccount is null)
        {
            return TransferFailureReason.UnknownAccount;
        }

        if (fromAccount.Status == AccountStatus.Closed || toAccount.Status == AccountStatus.Closed)
        {
            return TransferFailureReason.AccountClosed;
        }

        if (fromAccount.BalanceWon < order.AmountWon)
        {
            return TransferFailureReason.InsufficientFunds;
        }

        return toAccount.BalanceWon > AccountRules.BalanceWonMax - order.AmountWon ? TransferFailureReason.BalanceLimitExceeded : null;
    }

    /// <summary>A transfer the corporate account could not pay the fee of, after the transfer itself, is refused whole.</summary>
    private TransferFailureReason? FeeRefusal(TransferOrder order, long feeWon)
    {
        if (feeWon == 0)
        {
            return null;
        }

        var corporateAfterWon = accounts[corporate].BalanceWon + (order.To == corporate ? order.AmountWon : -order.AmountWon);
        return corporateAfterWon < feeWon ? TransferFailureReason.InsufficientFunds : null;
    }

    private void ChargeFee(long feeWon)
    {
        if (feeWon == 0)
        {
            return;
        }

        var account = accounts[corporate];
        Assert(account.BalanceWon >= feeWon, $"The corporate account holds {account.BalanceWon} won, less than the {feeWon} won fee.");
        accounts[corporate] = account with { BalanceWon = account.BalanceWon - feeWon };
    }

    /// <summary>Moves the money of an order that <see cref="Refusal"/> accepted, so both accounts exist.</summary>
    private void Move(TransferOrder order)
    {
        var fromAccount = accounts[order.From];
        var toAccount = accounts[order.To];
        var debited = fromAccount with { BalanceWon = fromAccount.BalanceWon - order.AmountWon };
        var credited = toAccount with { BalanceWon = toAccount.BalanceWon + order.AmountWon };

        // Both balances are checked before either is written, so a broken invariant leaves the ledger as it was.
        Assert(debited.BalanceWon >= 0, $"Transfer {order.RequestId} would leave {fromAccount.Key} at {debited.BalanceWon} won.");
        Assert(credited.BalanceWon <= AccountRules.BalanceWonMax, $"Transfer {order.RequestId} would take {toAccount.Key} to {credited.BalanceWon} won.");
        accounts[fromAccount.Key] = debited;
        accounts[toAccount.Key] = credited;
    }

    /// <summary>A broken invariant is a bug: it throws, and nothing catches it to carry on.</summary>
    private static void Assert(bool invariant, string message)
    {
        if (!invariant)
        {
            throw new InvalidOperationException($"Ledger invariant broken: {message}");
        }
    }
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
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<BankLedger>();
        return services;
    }
}
