using MyPay.Grains.Money;
using MyPay.Silo.Batching;
using Orleans;
using Orleans.Concurrency;
using Orleans.Runtime;
using OperationKeyReusedException = MyPay.Silo.Grains.OperationKeyReusedException;
using StorageId = MyPay.Silo.Grains.GrainId;

namespace MyPay.Grains.Payments;

/// <summary>A payment's refunds (환불), keyed by payment id. Created by the first refund; a payment never refunded has no grain state.</summary>
public interface IPaymentGrain : IGrainWithStringKey
{
    /// <summary>
    /// Refunds part or all of a payment, once per refund id: never more than was paid, commission reversed in
    /// proportion. A repeat of a refund id with the same request returns the first outcome.
    /// </summary>
    Task<RefundOutcome> Refund(PaymentRecord payment, string refundId, long amountWon, string requestHash);

    /// <summary>How much of the payment has been refunded, in won.</summary>
    [ReadOnly]
    Task<long> GetRefundedWon();
}

public enum RefundStatus
{
    Refunded,
    MoreThanRemains,
    NotAPositiveAmount,

    /// <summary>The payer's wallet had no room for it under the balance cap: nothing moved.</summary>
    AboveThePayersBalanceCap,
}

[GenerateSerializer]
public sealed record RefundOutcome(RefundStatus Status, string RefundId, long AmountWon, long CommissionWon, long RefundedTotalWon, long RemainingWon);

/// <summary>
/// One refund: its amount, the commission it reversed, and whether the payer's wallet has it yet — or refused it for
/// want of room under its cap, in which case it moved nothing and counts for nothing.
/// </summary>
[GenerateSerializer]
public sealed record RefundEntry(string RefundId, long AmountWon, long CommissionWon, string RequestHash, bool Credited, bool Refused = false)
{
    public bool IsPending => !Credited && !Refused;
}

[GenerateSerializer]
public sealed class PaymentRefunds
{
    [Id(0)]
    public PaymentRecord? Payment { get; set; }

    [Id(1)]
    public List<RefundEntry> Refunds { get; set; } = [];
}

/// <summary>
/// Serialises a payment's refunds so together they never exceed it. A refund is first recorded here (it then
/// counts against what remains), then credited to the payer's wallet with its journal entry (idempotent by
/// refund id), then marked credited. A reminder armed before the first step finishes a refund a crash interrupted.
/// </summary>
public sealed class PaymentGrain : Grain, IPaymentGrain, IRemindable
{
    /// <summary>The stored state's name: the grain type name it had before Orleans, so stored rows carry over.</summary>
    public const string StateName = "payment";

    private static readonly TimeSpan ResumeInterval = TimeSpan.FromSeconds(30);

    private readonly CommandBatch<PaymentRefunds> state;
    private readonly TimeProvider time;
    private readonly Resumption resumption;

    public PaymentGrain(TimeProvider time)
    {
        this.state = new CommandBatch<PaymentRefunds>(this, StateName);
        this.time = time;
        resumption = new Resumption(this, ResumeInterval);
    }

    public override Task OnActivateAsync(CancellationToken cancellationToken) => state.LoadAsync();

    public Task<long> GetRefundedWon() => Task.FromResult(RefundedWon(state.Committed));

    public async Task<RefundOutcome> Refund(PaymentRecord payment, string refundId, long amountWon, string requestHash)
    {
        var paid = state.Committed.Payment ?? payment;
        if (state.Committed.Refunds.Find(refund => refund.RefundId == refundId) is { } existing)
        {
            if (existing.RequestHash != requestHash)
            {
                throw new OperationKeyReusedException(new StorageId(StateName, this.GetPrimaryKeyString()), refundId);
            }

            await CreditPendingAsync();
            return Outcome(refundId);
        }

        var refundedWon = RefundedWon(state.Committed);
        var remainingWon = paid.AmountWon - refundedWon;
        if (amountWon <= 0 || amountWon > remainingWon)
        {
            var status = amountWon <= 0 ? RefundStatus.NotAPositiveAmount : RefundStatus.MoreThanRemains;
            return new RefundOutcome(status, refundId, amountWon, 0, refundedWon, remainingWon);
        }

        // Commission comes back in proportion, cumulatively: after refunds totalling R of A, exactly floor(C × R / A)
        // has been reversed, so a full refund returns the whole commission and never a won more.
        var reversedBeforeWon = Counted(state.Committed).Sum(refund => refund.CommissionWon);
        var reversedAfterWon = checked(paid.CommissionWon * (refundedWon + amountWon)) / paid.AmountWon;
        var refund = new RefundEntry(refundId, amountWon, reversedAfterWon - reversedBeforeWon, requestHash, Credited: false);
        await resumption.ArmAsync();
        await state.Run(
            current =>
            {
                current.Payment ??= payment;
                current.Refunds.Add(refund);
                return true;
            },
            reapply: false);
        await CreditPendingAsync();
        return Outcome(refundId);
    }

    public Task ReceiveReminder(string reminderName, TickStatus status) =>
        reminderName == Resumption.ReminderName ? CreditPendingAsync() : Task.CompletedTask;

    /// <summary>
    /// Offers every recorded refund the payer's wallet has not answered yet, records whether it took each (a wallet
    /// without room under its cap refuses), then disarms the reminder.
    /// </summary>
    private async Task CreditPendingAsync()
    {
        var pending = state.Committed.Refunds.Where(refund => refund.IsPending).ToList();
        if (pending.Count > 0)
        {
            var paid = state.Committed.Payment!;
            var wallet = GrainFactory.GetGrain<IWalletGrain>(paid.PayerId);
            var credited = new Dictionary<string, bool>(StringComparer.Ordinal);
            foreach (var refund in pending)
            {
                credited[refund.RefundId] = (await wallet.CreditRefund(paid, refund.RefundId, refund.AmountWon, refund.CommissionWon, time.GetUtcNow())).Credited;
            }

            await state.Run(
                current =>
                {
                    current.Refunds =
                    [
                        .. current.Refunds.Select(refund => credited.TryGetValue(refund.RefundId, out var taken) ? refund with { Credited = taken, Refused = !taken } : refund),
                    ];
                    return true;
                },
                reapply: false);
        }

        await resumption.DisarmAsync();
    }

    /// <summary>The refunds that moved money or will: all but those the payer's wallet refused.</summary>
    private static IEnumerable<RefundEntry> Counted(PaymentRefunds refunds) => refunds.Refunds.Where(refund => !refund.Refused);

    private static long RefundedWon(PaymentRefunds refunds) => Counted(refunds).Sum(refund => refund.AmountWon);

    /// <summary>A recorded refund's outcome as it now stands: refunded (or on its way), or refused by the payer's wallet.</summary>
    private RefundOutcome Outcome(string refundId)
    {
        var refund = state.Committed.Refunds.Find(entry => entry.RefundId == refundId)!;
        var refundedWon = RefundedWon(state.Committed);
        return new(
            refund.Refused ? RefundStatus.AboveThePayersBalanceCap : RefundStatus.Refunded,
            refund.RefundId,
            refund.AmountWon,
            refund.Refused ? 0 : refund.CommissionWon,
            refundedWon,
            state.Committed.Payment!.AmountWon - refundedWon);
    }
}
