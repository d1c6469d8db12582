using MyPay.Grains.Ledger;
using MyPay.Grains.Payments;
using MyPay.Grains.Remittance;
using MyPay.Silo.Grains;
using MyPay.Silo.Reminders;

namespace MyPay.Grains.Money;

/// <summary>
/// A member's wallet. Its commands are synchronous functions of the state and their arguments: the
/// silo applies a run of them in one turn, writes the balance once (with their journal entries), and
/// may re-apply them to reloaded state after a conflict.
/// </summary>
public sealed class WalletGrain(string memberId, IPersistentState<WalletState> wallet, WalletLimits limits, TimeSpan resumeInterval)
{
    public long GetBalance() => wallet.State.BalanceWon;

    /// <summary>
    /// Holds a recharge's amount against the cap. A reserved recharge's pending row and the reminder that resumes
    /// it go into this same write, so the recharge exists, durably and resumably, exactly when its reservation does.
    /// </summary>
    public RechargeOutcome ReserveRecharge(RechargeRecord recharge)
    {
        if (recharge.MemberId != memberId || recharge.Status != RechargeProgress.Pending)
        {
            throw new InvalidOperationException($"Wallet {memberId} was asked to reserve recharge {recharge.RechargeId} of member {recharge.MemberId} in state {recharge.Status}.");
        }

        var balanceWon = wallet.State.BalanceWon;
        var inFlightWon = wallet.State.PendingRechargesWon.Values.Sum();
        var amountWon = recharge.AmountWon;
        var status = limits.RejectRecharge(amountWon)
            ?? (amountWon > limits.BalanceCapWon - balanceWon - inFlightWon ? RechargeStatus.AboveTheBalanceCap : RechargeStatus.Reserved);
        if (status == RechargeStatus.Reserved)
        {
            wallet.State.PendingRechargesWon.Add(recharge.RechargeId, amountWon);
            wallet.Append(recharge);
            wallet.Append(ReminderChange.Set(
                RechargeGrain.IdOf(recharge.RechargeId), RechargeGrain.ResumeReminder, recharge.RequestedAt + resumeInterval, resumeInterval));
        }

        return new RechargeOutcome(status, recharge, balanceWon);
    }

    public long CompleteRecharge(RechargeCompletion completion)
    {
        var recharge = completion.Recharge;
        if (!wallet.State.PendingRechargesWon.Remove(recharge.RechargeId, out var amountWon))
        {
            throw new InvalidOperationException($"Wallet {memberId} has no pending recharge {recharge.RechargeId} to complete.");
        }

        var balanceWon = checked(wallet.State.BalanceWon + amountWon);
        wallet.State.BalanceWon = balanceWon;
        AssertInvariants();
        wallet.Append(new JournalEntry(
            $"recharge:{recharge.RechargeId}",
            "recharge",
            memberId,
            recharge.IdempotencyKey,
            recharge.RechargeId,
            completion.CompletedAt,
            [new Posting(Accounts.CorporateCash, amountWon), new Posting(Accounts.Wallet(memberId), -amountWon)]));
        if (completion.FeeWon > 0)
        {
            wallet.Append(new JournalEntry(
                $"bank-fee:{recharge.FirmbankingRequestId}",
                "bank-fee",
                memberId,
                null,
                recharge.FirmbankingRequestId,
                completion.CompletedAt,
                [new Posting(Accounts.BankFeeExpense, completion.FeeWon), new Posting(Accounts.CorporateCash, -completion.FeeWon)]));
        }

        Finish(recharge with { Status = RechargeProgress.Succeeded, BalanceAfterWon = balanceWon, CompletedAt = completion.CompletedAt });
        return balanceWon;
    }

    public bool ReleaseRecharge(RechargeRecord failed)
    {
        if (failed.Status != RechargeProgress.Failed || !wallet.State.PendingRechargesWon.Remove(failed.RechargeId))
        {
            return false;
        }

        Finish(failed);
        return true;
    }

    /// <summary>
    /// Pays a merchant: debits the wallet, credits the merchant's receivable net of commission and MyPay's fee
    /// revenue with the commission — one journal entry — and records the payment, all in the wallet's write.
    /// </summary>
    public PaymentOutcome Pay(PaymentOrder order)
    {
        var balanceWon = wallet.State.BalanceWon;
        var commissionWon = order.CommissionWon;
        if (order.AmountWon <= 0 || commissionWon < 0 || commissionWon > order.AmountWon || order.MerchantId == memberId)
        {
            throw new InvalidOperationException($"Payment {order.PaymentId} of {order.AmountWon} won with {commissionWon} won commission to {order.MerchantId} is malformed.");
        }

        if (balanceWon < order.AmountWon)
        {
            return new PaymentOutcome(PaymentStatus.InsufficientFunds, order.PaymentId, order.AmountWon, commissionWon, balanceWon);
        }

        wallet.State.BalanceWon = balanceWon - order.AmountWon;
        AssertInvariants();
        var netWon = order.AmountWon - commissionWon;
        List<Posting> postings = [new Posting(Accounts.Wallet(memberId), order.AmountWon)];
        if (netWon > 0)
        {
            postings.Add(new Posting(Accounts.Receivable(order.MerchantId), -netWon));
        }

        if (commissionWon > 0)
        {
            postings.Add(new Posting(Accounts.FeeRevenue, -commissionWon));
        }

        wallet.Append(new JournalEntry($"payment:{order.PaymentId}", "payment", memberId, order.IdempotencyKey, order.PaymentId, order.At, postings));
        wallet.Append(new PaymentRecord(
            order.PaymentId, memberId, order.MerchantId, order.AmountWon, order.CommissionBps, commissionWon, order.OrderId, order.IdempotencyKey, order.At));
        return new PaymentOutcome(PaymentStatus.Paid, order.PaymentId, order.AmountWon, commissionWon, wallet.State.BalanceWon);
    }

    /// <summary>
    /// Sends money to another member: one journal entry debits this wallet and credits the recipient's. The
    /// recipient's wallet grain counts it when told (<see cref="ReceiveRemittance"/>); the ledger has it now.
    /// </summary>
    public RemittanceDebit SendToMember(string remittanceId, string recipientId, long amountWon, string idempotencyKey, DateTimeOffset at)
    {
        if (!TryDebit(amountWon))
        {
            return RemittanceDebit.InsufficientFunds;
        }

        wallet.Append(new JournalEntry(
            $"remittance:{remittanceId}", "remittance", memberId, idempotencyKey, remittanceId, at,
            [new Posting(Accounts.Wallet(memberId), amountWon), new Posting(Accounts.Wallet(recipientId), -amountWon)]));
        return RemittanceDebit.Debited;
    }

    /// <summary>Counts money another member sent, already in the ledger. Once per remittance (its operation key).</summary>
    public long ReceiveRemittance(long amountWon)
    {
        // No cap here: the money is already this member's in the ledger, and a wallet never refuses its own money.
        wallet.State.BalanceWon = checked(wallet.State.BalanceWon + amountWon);
        AssertInvariants();
        return wallet.State.BalanceWon;
    }

    /// <summary>Moves the amount and fee of a bank remittance from the wallet to the remittance's hold.</summary>
    public RemittanceDebit HoldForRemittance(string remittanceId, long totalWon, string idempotencyKey, DateTimeOffset at)
    {
        if (!TryDebit(totalWon))
        {
            return RemittanceDebit.InsufficientFunds;
        }

        wallet.Append(new JournalEntry(
            $"remittance-hold:{remittanceId}", "remittance-hold", memberId, idempotencyKey, remittanceId, at,
            [new Posting(Accounts.Wallet(memberId), totalWon), new Posting(Accounts.RemittanceHold(remittanceId), -totalWon)]));
        return RemittanceDebit.Debited;
    }

    /// <summary>Gives back everything a bank remittance held, when the bank refused it. Once per remittance.</summary>
    public long VoidRemittanceHold(string remittanceId, long totalWon, DateTimeOffset at)
    {
        wallet.State.BalanceWon = checked(wallet.State.BalanceWon + totalWon);
        AssertInvariants();
        wallet.Append(new JournalEntry(
            $"remittance-void:{remittanceId}", "remittance-void", memberId, null, remittanceId, at,
            [new Posting(Accounts.RemittanceHold(remittanceId), totalWon), new Posting(Accounts.Wallet(memberId), -totalWon)]));
        return wallet.State.BalanceWon;
    }

    /// <summary>
    /// Gives a payer back part of a payment: the wallet is credited, the merchant's receivable and MyPay's fee
    /// revenue are debited in proportion — one journal entry.
    /// </summary>
    public long CreditRefund(PaymentRecord payment, string refundId, long amountWon, long commissionWon, DateTimeOffset at)
    {
        wallet.State.BalanceWon = checked(wallet.State.BalanceWon + amountWon);
        AssertInvariants();
        List<Posting> postings = [new Posting(Accounts.Wallet(memberId), -amountWon)];
        if (amountWon - commissionWon > 0)
        {
            postings.Add(new Posting(Accounts.Receivable(payment.MerchantId), amountWon - commissionWon));
        }

        if (commissionWon > 0)
        {
            postings.Add(new Posting(Accounts.FeeRevenue, commissionWon));
        }

        wallet.Append(new JournalEntry($"refund:{refundId}", "refund", memberId, null, payment.PaymentId, at, postings));
        return wallet.State.BalanceWon;
    }

    /// <summary>A recharge's final row, and its reminder cleared, in the write that settles it in the wallet.</summary>
    private void Finish(RechargeRecord finished)
    {
        wallet.Append(finished);
        wallet.Append(ReminderChange.Clear(RechargeGrain.IdOf(finished.RechargeId), RechargeGrain.ResumeReminder));
    }

    private bool TryDebit(long amountWon)
    {
        if (amountWon <= 0)
        {
            throw new InvalidOperationException($"Wallet {memberId} was asked to give {amountWon} won.");
        }

        if (wallet.State.BalanceWon < amountWon)
        {
            return false;
        }

        wallet.State.BalanceWon -= amountWon;
        AssertInvariants();
        return true;
    }

    /// <summary>
    /// A wallet never goes below zero. The balance cap is a rule for what comes in from outside (recharges),
    /// checked there: money sent by other members lands even on a full wallet, since it is already the member's.
    /// </summary>
    private void AssertInvariants()
    {
        if (wallet.State.BalanceWon < 0)
        {
            throw new InvalidOperationException($"Wallet {memberId} balance {wallet.State.BalanceWon} won is below zero.");
        }
    }
}

/// <summary>Forwards <see cref="IWalletGrain"/> calls to the wallet's activation as messages.</summary>
internal sealed class WalletGrainReference(GrainReference<WalletGrain> grain) : IWalletGrain
{
    public Task<long> GetBalance() => grain.Read(wallet => wallet.GetBalance());

    public Task<RechargeOutcome> ReserveRecharge(RechargeRecord recharge, OperationKey operation) =>
        grain.Update(wallet => wallet.ReserveRecharge(recharge), operation);

    public Task<long> CompleteRecharge(RechargeCompletion completion) =>
        grain.Update(wallet => wallet.CompleteRecharge(completion), new OperationKey($"complete-recharge:{completion.Recharge.RechargeId}", completion.Recharge.FirmbankingRequestId));

    public Task ReleaseRecharge(RechargeRecord failed) => grain.Update(wallet => wallet.ReleaseRecharge(failed));

    public Task<PaymentOutcome> Pay(PaymentOrder order, OperationKey operation) => grain.Update(wallet => wallet.Pay(order), operation);

    public Task<RemittanceDebit> SendToMember(string remittanceId, string recipientId, long amountWon, OperationKey operation, DateTimeOffset at) =>
        grain.Update(wallet => wallet.SendToMember(remittanceId, recipientId, amountWon, operation.Id, at), operation);

    public Task<long> ReceiveRemittance(string remittanceId, long amountWon) =>
        grain.Update(wallet => wallet.ReceiveRemittance(amountWon), new OperationKey($"receive:{remittanceId}", remittanceId));

    public Task<RemittanceDebit> HoldForRemittance(string remittanceId, long totalWon, OperationKey operation, DateTimeOffset at) =>
        grain.Update(wallet => wallet.HoldForRemittance(remittanceId, totalWon, operation.Id, at), operation);

    public Task<long> CreditRefund(PaymentRecord payment, string refundId, long amountWon, long commissionWon, DateTimeOffset at) =>
        grain.Update(wallet => wallet.CreditRefund(payment, refundId, amountWon, commissionWon, at), new OperationKey($"refund:{refundId}", payment.PaymentId));

    public Task<long> VoidRemittanceHold(string remittanceId, long totalWon, DateTimeOffset at) =>
        grain.Update(wallet => wallet.VoidRemittanceHold(remittanceId, totalWon, at), new OperationKey($"void:{remittanceId}", remittanceId));
}
