using MyPay.BankSimulator.Accounts;
using MyPay.BankSimulator.Banks;
using MyPay.BankSimulator.Transfers;

namespace MyPay.BankSimulator.Ledger;

/// <summary>
/// A new order decided against its accounts, as the ledger locked them for it: refused with a reason and nothing
/// moved, or applied, with the balances it leaves. Pure, so that the ledger writes exactly what was decided.
/// </summary>
/// <param name="accounts">The accounts as they stand, locked: at least the order's from- and to-accounts that exist.</param>
/// <param name="corporate">MyPay's corporate account, which pays <paramref name="corporateFeeWon"/> per transfer it takes part in.</param>
internal sealed class TransferPosting(IReadOnlyDictionary<AccountKey, Account> accounts, AccountKey corporate, long corporateFeeWon)
{
    /// <summary>The order's outcome, and the accounts it changed as they stand after it (none when refused).</summary>
    public (TransferRecord Record, IReadOnlyList<Account> Changed) Post(TransferOrder order, DateTimeOffset completedAt)
    {
        // Endpoints refuse these; a transfer to itself would credit a stale copy and create money.
        Assert(order.From != order.To, $"Transfer {order.RequestId} is from and to {order.From}.");
        Assert(order.AmountWon is > 0 and <= AccountRules.BalanceWonMax, $"Transfer {order.RequestId} is for {order.AmountWon} won.");

        var feeWon = order.From == corporate || order.To == corporate ? corporateFeeWon : 0;
        if ((Refusal(order) ?? FeeRefusal(order, feeWon)) is { } reason)
        {
            return (new TransferRecord(order, TransferStatus.Failed, reason, completedAt), []);
        }

        // The corporate account is the from- or the to-account whenever there is a fee.
        var balances = new[] { order.From, order.To }.ToDictionary(key => key, key => accounts[key].BalanceWon);
        balances[order.From] -= order.AmountWon;
        balances[order.To] += order.AmountWon;
        if (feeWon > 0)
        {
            balances[corporate] -= feeWon;
        }

        // Every balance is checked before any is written, so a broken invariant leaves the books as they were.
        foreach (var (key, balanceWon) in balances)
        {
            Assert(balanceWon is >= 0 and <= AccountRules.BalanceWonMax, $"Transfer {order.RequestId} would leave {key} at {balanceWon} won.");
        }

        return (new TransferRecord(order, TransferStatus.Succeeded, null, completedAt, feeWon),
            [.. balances.Select(entry => accounts[entry.Key] with { BalanceWon = entry.Value })]);
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

    /// <summary>A broken invariant is a bug: it throws, and nothing catches it to carry on.</summary>
    public static void Assert(bool invariant, string message)
    {
        if (!invariant)
        {
            throw new InvalidOperationException($"Ledger invariant broken: {message}");
        }
    }
}
