using MyPay.Grains.Money;
using MyPay.Silo.Grains;
using MyPay.Silo.Reminders;

namespace MyPay.Grains.Payments;

/// <summary>A payment's refunds (환불), keyed by payment id. Created by the first refund; a payment never refunded has no grain state.</summary>
public interface IPaymentGrain
{
    /// <summary>
    /// Refunds part or all of a payment, once per refund id: never more than was paid, commission reversed in
    /// proportion. A repeat of a refund id with the same request returns the first outcome.
    /// </summary>
    Task<RefundOutcome> Refund(PaymentRecord payment, string refundId, long amountWon, string requestHash);

    /// <summary>How much of the payment has been refunded, in won.</summary>
    Task<long> GetRefundedWon();
}

public enum RefundStatus
{
    Refunded,
    MoreThanRemains,
    NotAPositiveAmount,
}

public sealed record RefundOutcome(RefundStatus Status, string RefundId, long AmountWon, long CommissionWon, long RefundedTotalWon, long RemainingWon);

/// <summary>One refund: its amount, the commission it reversed, and whether the payer's wallet has it yet.</summary>
public sealed record RefundEntry(string RefundId, long AmountWon, long CommissionWon, string RequestHash, bool Credited);

public sealed class PaymentRefunds
{
    public PaymentRecord? Payment { get; set; }

    public List<RefundEntry> Refunds { get; set; } = [];
}

/// <summary>
/// Serialises a payment's refunds so together they never exceed it. A refund is first recorded here (it then
/// counts against what remains), then credited to the payer's wallet with its journal entry (idempotent by
/// refund id), then marked credited. A reminder set with the first step finishes a refund a crash interrupted.
/// </summary>
public sealed class PaymentGrain(GrainId id, IPersistentState<PaymentRefunds> state, IGrainFactory grains, TimeProvider time)
{
    public const string ResumeReminder = "resume";
    private static readonly TimeSpan ResumeInterval = TimeSpan.FromSeconds(30);

    public long RefundedWon => state.State.Refunds.Sum(refund => refund.AmountWon);

    public async Task<RefundOutcome> RefundAsync(PaymentRecord payment, string refundId, long amountWon, string requestHash)
    {
        state.State.Payment ??= payment;
        var paid = state.State.Payment;
        if (state.State.Refunds.Find(refund => refund.RefundId == refundId) is { } existing)
        {
            if (existing.RequestHash != requestHash)
            {
                throw new OperationKeyReusedException(id, refundId);
            }

            await CreditPendingAsync();
            return Outcome(RefundStatus.Refunded, existing);
        }

        var remainingWon = paid.AmountWon - RefundedWon;
        if (amountWon <= 0 || amountWon > remainingWon)
        {
            var status = amountWon <= 0 ? RefundStatus.NotAPositiveAmount : RefundStatus.MoreThanRemains;
            return new RefundOutcome(status, refundId, amountWon, 0, RefundedWon, remainingWon);
        }

        // Commission comes back in proportion, cumulatively: after refunds totalling R of A, exactly floor(C × R / A)
        // has been reversed, so a full refund returns the whole commission and never a won more.
        var reversedBeforeWon = state.State.Refunds.Sum(refund => refund.CommissionWon);
        var reversedAfterWon = checked(paid.CommissionWon * (RefundedWon + amountWon)) / paid.AmountWon;
        var refund = new RefundEntry(refundId, amountWon, reversedAfterWon - reversedBeforeWon, requestHash, Credited: false);
        state.State.Refunds.Add(refund);
        state.Append(ReminderChange.Set(id, ResumeReminder, time.GetUtcNow() + ResumeInterval, ResumeInterval));
        await state.WriteStateAsync();
        await CreditPendingAsync();
        return Outcome(RefundStatus.Refunded, refund);
    }

    public Task OnReminderAsync(string name) => name == ResumeReminder ? CreditPendingAsync() : Task.CompletedTask;

    /// <summary>Credits every recorded refund the payer's wallet does not have yet, then clears the reminder.</summary>
    private async Task CreditPendingAsync()
    {
        var pending = state.State.Refunds.Where(refund => !refund.Credited).ToList();
        if (pending.Count == 0)
        {
            return;
        }

        var paid = state.State.Payment!;
        var wallet = grains.GetGrain<IWalletGrain>(paid.PayerId);
        foreach (var refund in pending)
        {
            await wallet.CreditRefund(paid, refund.RefundId, refund.AmountWon, refund.CommissionWon, time.GetUtcNow());
        }

        state.State.Refunds = [.. state.State.Refunds.Select(refund => refund with { Credited = true })];
        state.Append(ReminderChange.Clear(id, ResumeReminder));
        await state.WriteStateAsync();
    }

    private RefundOutcome Outcome(RefundStatus status, RefundEntry refund) =>
        new(status, refund.RefundId, refund.AmountWon, refund.CommissionWon, RefundedWon, state.State.Payment!.AmountWon - RefundedWon);
}

internal sealed class PaymentGrainReference(GrainReference<PaymentGrain> grain) : IPaymentGrain
{
    public Task<RefundOutcome> Refund(PaymentRecord payment, string refundId, long amountWon, string requestHash) =>
        grain.Call(refunds => refunds.RefundAsync(payment, refundId, amountWon, requestHash));

    public Task<long> GetRefundedWon() => grain.Read(refunds => refunds.RefundedWon);
}
