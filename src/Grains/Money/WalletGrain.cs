using MyPay.Grains.Banking;
using MyPay.Grains.Events;
using MyPay.Grains.Ledger;
using MyPay.Grains.Payments;
using MyPay.Grains.Remittance;
using Microsoft.Extensions.Options;
using MyPay.Silo.Batching;
using Orleans;
using Orleans.Concurrency;
using Orleans.Runtime;
using OperationKey = MyPay.Silo.Grains.OperationKey;

namespace MyPay.Grains.Money;

/// <summary>
/// A member's wallet: a hot grain. Its commands are synchronous functions of the state and their arguments, applied
/// to memory in arrival order and committed in shared writes (<see cref="CommandBatch{TState}"/>), each with its
/// journal entries and rows; a command is answered after its write commits, and may be applied again to reloaded
/// state after a conflict.
/// <para>
/// The wallet resumes its own unfinished recharges: its reminder is armed before a reservation is written (a wallet
/// armed already arms for free), and each tick carries every pending recharge on, disarming once none is left. A
/// wallet recharged again and again keeps one reminder armed, instead of arming and disarming one per recharge.
/// </para>
/// </summary>
[Reentrant]
public sealed class WalletGrain : Grain, IWalletGrain, IRemindable
{
    /// <summary>The stored state's name: the grain type name it had before Orleans, so stored rows carry over.</summary>
    public const string StateName = "wallet";

    private readonly CommandBatch<WalletState> wallet;
    private readonly WalletLimits limits;
    private readonly IRechargeRecords recharges;
    private readonly Recharger recharger;
    private readonly TimeSpan resumeInterval;

    /// <summary>Created with the first recharge: most wallets of a busy silo sit idle.</summary>
    private Resumption? resumption;

    public WalletGrain(
        IOptions<WalletLimits> limits,
        IOptions<RechargeOptions> rechargeOptions,
        IRechargeRecords recharges,
        Recharger recharger)
    {
        wallet = new CommandBatch<WalletState>(this, StateName);
        this.limits = limits.Value;
        this.recharges = recharges;
        this.recharger = recharger;
        resumeInterval = rechargeOptions.Value.ResumeInterval;
    }

    private string MemberId => this.GetPrimaryKeyString();

    private Resumption Resumption => resumption ??= new Resumption(this, resumeInterval);

    /// <summary>
    /// Loads the wallet. A wallet that wakes with recharges pending arms its reminder again (re-registering one that stands): recharges reserved before
    /// the wallet resumed its own (each had a reminder of its own, removed by the recharges migration) are carried on.
    /// </summary>
    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        await wallet.LoadAsync();
        if (wallet.Committed.HasPendingRecharges)
        {
            await Resumption.ArmAsync();
        }
    }

    public Task<long> GetBalance() => Task.FromResult(wallet.Committed.BalanceWon);

    public async Task<RechargeOutcome> ReserveRecharge(RechargeRecord recharge, OperationKey operation)
    {
        using var guard = await Resumption.GuardAsync();
        return await wallet.Run(state => ReserveRecharge(state, recharge), operation);
    }

    /// <summary>
    /// The reminder's tick: carries every pending recharge on from its stored row (the bank gave no answer, or the node
    /// stopped), each step idempotent, so a request still driving one changes nothing twice; then disarms if none is
    /// left and no reservation is on its way.
    /// </summary>
    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName != Resumption.ReminderName)
        {
            return;
        }

        foreach (var rechargeId in wallet.Committed.PendingRechargesWon.Keys.ToList())
        {
            if (await recharges.FindAsync(rechargeId, CancellationToken.None) is { Status: RechargeProgress.Pending } pending)
            {
                await recharger.FinishAsync(pending, resumed: true);
            }
        }

        await Resumption.DisarmWhenIdleAsync(() => !wallet.Committed.HasPendingRecharges);
    }

    public Task<long> CompleteRecharge(RechargeAnswer answer) =>
        wallet.Run(state => CompleteRecharge(state, answer), OperationKey.Derived("complete-recharge", answer.Recharge.RechargeId, answer.Recharge.FirmbankingRequestId));

    public Task ReleaseRecharge(RechargeAnswer answer) => wallet.Run(state => ReleaseRecharge(state, answer));

    public Task<PaymentOutcome> Pay(PaymentOrder order, OperationKey operation) => wallet.Run(state => Pay(state, order), operation);

    public Task<RemittanceDebit> SendToMember(string remittanceId, string recipientId, long amountWon, OperationKey operation, DateTimeOffset at) =>
        wallet.Run(state => SendToMember(state, remittanceId, recipientId, amountWon, operation.Id, at), operation);

    public Task<IncomingCredit> ReserveIncoming(string remittanceId, long amountWon) =>
        wallet.Run(state => ReserveIncoming(state, remittanceId, amountWon), OperationKey.Derived("reserve-incoming", remittanceId, remittanceId));

    public Task ReleaseIncoming(string remittanceId) => wallet.Run(state => state.IncomingWon.Remove(remittanceId));

    public Task<PaymentOutcome?> FindPayment(OperationKey operation) => wallet.FindAsync<PaymentOutcome>(operation);

    public Task<RechargeOutcome?> FindRecharge(OperationKey operation) => wallet.FindAsync<RechargeOutcome>(operation);

    public Task<long> ReceiveRemittance(string remittanceId, long amountWon, DateTimeOffset at) =>
        wallet.Run(state => ReceiveRemittance(state, remittanceId, amountWon, at), OperationKey.Derived("receive", remittanceId, remittanceId));

    public Task<RemittanceDebit> HoldForRemittance(string remittanceId, long totalWon, OperationKey operation, DateTimeOffset at) =>
        wallet.Run(state => HoldForRemittance(state, remittanceId, totalWon, operation.Id, at), operation);

    public Task<RefundCredit> CreditRefund(PaymentRecord payment, string refundId, long amountWon, long commissionWon, DateTimeOffset at) =>
        wallet.Run(state => CreditRefund(state, payment, refundId, amountWon, commissionWon, at), OperationKey.Derived("refund", refundId, payment.PaymentId));

    public Task<long> VoidRemittanceHold(string remittanceId, long totalWon, DateTimeOffset at) =>
        wallet.Run(state => VoidRemittanceHold(state, remittanceId, totalWon, at), OperationKey.Derived("void", remittanceId, remittanceId));

    /// <summary>
    /// Holds a recharge's amount against the cap. A reserved recharge's pending row goes into this same write, so the
    /// recharge exists exactly when its reservation does (the wallet's reminder that resumes it was armed before), and so
    /// does its bank command's index row as may-be-sent: the command is then sent without a write of its own first
    /// (<see cref="BankCommandDriver.ExecuteRecordedAsync"/>).
    /// </summary>
    private RechargeOutcome ReserveRecharge(WalletState state, RechargeRecord recharge)
    {
        if (recharge.MemberId != MemberId || recharge.Status != RechargeProgress.Pending)
        {
            throw new InvalidOperationException($"Wallet {MemberId} was asked to reserve recharge {recharge.RechargeId} of member {recharge.MemberId} in state {recharge.Status}.");
        }

        var balanceWon = state.BalanceWon;
        var amountWon = recharge.AmountWon;
        var status = limits.RejectRecharge(amountWon)
            ?? (amountWon > RoomWon(state) ? RechargeStatus.AboveTheBalanceCap : RechargeStatus.Reserved);
        if (status == RechargeStatus.Reserved)
        {
            state.PendingRechargesWon.Add(recharge.RechargeId, amountWon);
            state.Records.Append(recharge);
            state.Records.Append(FirmbankingIndexRow.Sent(recharge.FirmbankingRequestId, recharger.BankCommand(recharge), recharge.RequestedAt));
        }

        return new RechargeOutcome(status, recharge, balanceWon);
    }

    private long CompleteRecharge(WalletState state, RechargeAnswer answer)
    {
        var (recharge, transfer) = AssertAnswers(answer, FirmbankingStatus.Succeeded);

        if (!state.PendingRechargesWon.Remove(recharge.RechargeId, out var amountWon))
        {
            throw new InvalidOperationException($"Wallet {MemberId} has no pending recharge {recharge.RechargeId} to complete.");
        }

        var balanceWon = checked(state.BalanceWon + amountWon);
        var completedAt = answer.CompletedAt;
        state.BalanceWon = balanceWon;
        AssertInvariants(state);
        state.Records.Append(new JournalEntry(
            $"recharge:{recharge.RechargeId}",
            "recharge",
            MemberId,
            recharge.IdempotencyKey,
            recharge.RechargeId,
            completedAt,
            [new Posting(Accounts.CorporateCash, amountWon), new Posting(Accounts.Wallet(MemberId), -amountWon)]));
        if (transfer.FeeWon > 0)
        {
            state.Records.Append(JournalEntry.BankFee(recharge.FirmbankingRequestId, MemberId, transfer.FeeWon, completedAt));
        }

        state.Records.Append(recharge with { Status = RechargeProgress.Succeeded, BalanceAfterWon = balanceWon, CompletedAt = completedAt });
        state.Records.Append(FirmbankingIndexRow.Of(transfer));
        Publish(state, DomainEvents.RechargeCompleted, recharge.RechargeId, new RechargeCompletedEvent(recharge.RechargeId, MemberId, amountWon, balanceWon), completedAt);
        return balanceWon;
    }

    private bool ReleaseRecharge(WalletState state, RechargeAnswer answer)
    {
        if (!state.PendingRechargesWon.Remove(AssertAnswers(answer, FirmbankingStatus.Failed).Recharge.RechargeId))
        {
            return false;
        }

        var failed = answer.Failed;
        state.Records.Append(failed);
        state.Records.Append(FirmbankingIndexRow.Of(answer.Transfer));
        Publish(
            state, DomainEvents.RechargeFailed, failed.RechargeId,
            new RechargeFailedEvent(failed.RechargeId, MemberId, failed.AmountWon, failed.FailureReason, state.BalanceWon), answer.CompletedAt);
        return true;
    }

    /// <summary>
    /// Pays a merchant: debits the wallet, credits the merchant's receivable net of commission and MyPay's fee
    /// revenue with the commission — one journal entry — and records the payment, all in the wallet's write.
    /// </summary>
    private PaymentOutcome Pay(WalletState state, PaymentOrder order)
    {
        var balanceWon = state.BalanceWon;
        var commissionWon = order.CommissionWon;
        if (order.AmountWon <= 0 || commissionWon < 0 || commissionWon > order.AmountWon || order.MerchantId == MemberId)
        {
            throw new InvalidOperationException($"Payment {order.PaymentId} of {order.AmountWon} won with {commissionWon} won commission to {order.MerchantId} is malformed.");
        }

        if (balanceWon < order.AmountWon)
        {
            return new PaymentOutcome(PaymentStatus.InsufficientFunds, order.PaymentId, order.AmountWon, commissionWon, balanceWon);
        }

        state.BalanceWon = balanceWon - order.AmountWon;
        AssertInvariants(state);
        var netWon = order.AmountWon - commissionWon;
        List<Posting> postings = [new Posting(Accounts.Wallet(MemberId), order.AmountWon)];
        if (netWon > 0)
        {
            postings.Add(new Posting(Accounts.Receivable(order.MerchantId), -netWon));
        }

        if (commissionWon > 0)
        {
            postings.Add(new Posting(Accounts.FeeRevenue, -commissionWon));
        }

        state.Records.Append(new JournalEntry($"payment:{order.PaymentId}", "payment", MemberId, order.IdempotencyKey, order.PaymentId, order.At, postings));
        state.Records.Append(new PaymentRecord(
            order.PaymentId, MemberId, order.MerchantId, order.AmountWon, order.CommissionBps, commissionWon, order.OrderId, order.IdempotencyKey, order.At));
        Publish(
            state, DomainEvents.PaymentCompleted, order.PaymentId,
            new PaymentCompletedEvent(order.PaymentId, MemberId, order.MerchantId, order.AmountWon, commissionWon, order.OrderId, state.BalanceWon), order.At);
        return new PaymentOutcome(PaymentStatus.Paid, order.PaymentId, order.AmountWon, commissionWon, state.BalanceWon);
    }

    /// <summary>
    /// Sends money to another member: one journal entry debits this wallet and credits the recipient's. The
    /// recipient's wallet grain counts it when told (<see cref="IWalletGrain.ReceiveRemittance"/>); the ledger has it now.
    /// </summary>
    private RemittanceDebit SendToMember(WalletState state, string remittanceId, string recipientId, long amountWon, string idempotencyKey, DateTimeOffset at)
    {
        if (!TryDebit(state, amountWon))
        {
            return RemittanceDebit.InsufficientFunds;
        }

        state.Records.Append(new JournalEntry(
            $"remittance:{remittanceId}", "remittance", MemberId, idempotencyKey, remittanceId, at,
            [new Posting(Accounts.Wallet(MemberId), amountWon), new Posting(Accounts.Wallet(recipientId), -amountWon)]));
        Publish(state, DomainEvents.RemittanceSent, remittanceId, new RemittanceSentEvent(remittanceId, MemberId, recipientId, amountWon, state.BalanceWon), at);
        return RemittanceDebit.Debited;
    }

    /// <summary>
    /// Makes room under the cap for a member's remittance before its sender is debited: refused when the balance, the
    /// recharges in flight and the credits already accepted leave too little. Once per remittance (its operation key).
    /// </summary>
    private IncomingCredit ReserveIncoming(WalletState state, string remittanceId, long amountWon)
    {
        if (amountWon <= 0)
        {
            throw new InvalidOperationException($"Wallet {MemberId} was asked to make room for {amountWon} won from remittance {remittanceId}.");
        }

        var roomWon = RoomWon(state);
        if (amountWon > roomWon)
        {
            return new IncomingCredit(Accepted: false, roomWon);
        }

        state.IncomingWon.Add(remittanceId, amountWon);
        return new IncomingCredit(Accepted: true, roomWon);
    }

    /// <summary>
    /// Counts money another member sent, already in the ledger, into the room its reservation made. Once per remittance
    /// (its operation key).
    /// </summary>
    private long ReceiveRemittance(WalletState state, string remittanceId, long amountWon, DateTimeOffset at)
    {
        // The reservation kept the room: the money is already this member's in the ledger, and the wallet takes it.
        state.IncomingWon.Remove(remittanceId);
        state.BalanceWon = checked(state.BalanceWon + amountWon);
        AssertInvariants(state);
        Publish(state, DomainEvents.RemittanceReceived, remittanceId, new RemittanceReceivedEvent(remittanceId, MemberId, amountWon, state.BalanceWon), at);
        return state.BalanceWon;
    }

    /// <summary>Moves the amount and fee of a bank remittance from the wallet to the remittance's hold.</summary>
    private RemittanceDebit HoldForRemittance(WalletState state, string remittanceId, long totalWon, string idempotencyKey, DateTimeOffset at)
    {
        if (!TryDebit(state, totalWon))
        {
            return RemittanceDebit.InsufficientFunds;
        }

        state.Records.Append(new JournalEntry(
            $"remittance-hold:{remittanceId}", "remittance-hold", MemberId, idempotencyKey, remittanceId, at,
            [new Posting(Accounts.Wallet(MemberId), totalWon), new Posting(Accounts.RemittanceHold(remittanceId), -totalWon)]));
        Publish(state, DomainEvents.RemittanceSent, remittanceId, new RemittanceSentEvent(remittanceId, MemberId, RecipientId: null, totalWon, state.BalanceWon), at);
        return RemittanceDebit.Debited;
    }

    /// <summary>Gives back everything a bank remittance held, when the bank refused it. Once per remittance.</summary>
    private long VoidRemittanceHold(WalletState state, string remittanceId, long totalWon, DateTimeOffset at)
    {
        state.BalanceWon = checked(state.BalanceWon + totalWon);
        AssertInvariants(state);
        state.Records.Append(new JournalEntry(
            $"remittance-void:{remittanceId}", "remittance-void", MemberId, null, remittanceId, at,
            [new Posting(Accounts.RemittanceHold(remittanceId), totalWon), new Posting(Accounts.Wallet(MemberId), -totalWon)]));
        Publish(state, DomainEvents.RemittanceVoided, remittanceId, new RemittanceVoidedEvent(remittanceId, MemberId, totalWon, state.BalanceWon), at);
        return state.BalanceWon;
    }

    /// <summary>
    /// Gives a payer back part of a payment: the wallet is credited, the merchant's receivable and MyPay's fee
    /// revenue are debited in proportion — one journal entry. Refused, with nothing moved, when the wallet has no room
    /// for it under the cap (the refund is then the merchant's to make another way, or in a smaller part).
    /// </summary>
    private RefundCredit CreditRefund(WalletState state, PaymentRecord payment, string refundId, long amountWon, long commissionWon, DateTimeOffset at)
    {
        var roomWon = RoomWon(state);
        if (amountWon > roomWon)
        {
            return new RefundCredit(Credited: false, state.BalanceWon, roomWon);
        }

        state.BalanceWon = checked(state.BalanceWon + amountWon);
        AssertInvariants(state);
        List<Posting> postings = [new Posting(Accounts.Wallet(MemberId), -amountWon)];
        if (amountWon - commissionWon > 0)
        {
            postings.Add(new Posting(Accounts.Receivable(payment.MerchantId), amountWon - commissionWon));
        }

        if (commissionWon > 0)
        {
            postings.Add(new Posting(Accounts.FeeRevenue, commissionWon));
        }

        state.Records.Append(new JournalEntry($"refund:{refundId}", "refund", MemberId, null, payment.PaymentId, at, postings));
        Publish(
            state, DomainEvents.PaymentRefunded, refundId,
            new PaymentRefundedEvent(refundId, payment.PaymentId, MemberId, payment.MerchantId, amountWon, commissionWon, state.BalanceWon), at);
        return new RefundCredit(Credited: true, state.BalanceWon, roomWon);
    }

    /// <summary>
    /// The bank's answer, checked to be <paramref name="expected"/> and to be the answer to this recharge's own bank command:
    /// a credit or release on any other is a bug, and moves nothing.
    /// </summary>
    private (RechargeRecord Recharge, FirmbankingRecord Transfer) AssertAnswers(RechargeAnswer answer, FirmbankingStatus expected)
    {
        var (recharge, transfer) = (answer.Recharge, answer.Transfer);
        if (transfer.Status != expected || transfer.RequestId != recharge.FirmbankingRequestId)
        {
            throw new InvalidOperationException(
                $"Wallet {MemberId} was asked to settle recharge {recharge.RechargeId} as {expected} on bank command {transfer.RequestId} in state {transfer.Status}.");
        }

        return (recharge, transfer);
    }

    /// <summary>Publishes an event on the wallet's stream, in the write of the change it tells of.</summary>
    private void Publish<TPayload>(WalletState state, string type, string subject, TPayload payload, DateTimeOffset at) =>
        state.PublishAbout(DomainEvents.WalletStream(MemberId), type, subject, payload, at);

    private bool TryDebit(WalletState state, long amountWon)
    {
        if (amountWon <= 0)
        {
            throw new InvalidOperationException($"Wallet {MemberId} was asked to give {amountWon} won.");
        }

        if (state.BalanceWon < amountWon)
        {
            return false;
        }

        state.BalanceWon -= amountWon;
        AssertInvariants(state);
        return true;
    }

    /// <summary>
    /// What may still come in under the cap: the cap less the balance, the recharges in flight and the credits accepted.
    /// Every credit from outside the wallet (a recharge, a member's remittance, a refund) is checked against it, in the
    /// same command that takes it or reserves it, so no interleaving can take the wallet over the cap. (A voided bank
    /// remittance gives back the member's own money, and a lowered cap binds new credits only.)
    /// </summary>
    private long RoomWon(WalletState state) => limits.BalanceCapWon - state.BalanceWon - state.PromisedWon;

    /// <summary>A wallet never goes below zero.</summary>
    private void AssertInvariants(WalletState state)
    {
        if (state.BalanceWon < 0)
        {
            throw new InvalidOperationException($"Wallet {MemberId} balance {state.BalanceWon} won is below zero.");
        }
    }
}
