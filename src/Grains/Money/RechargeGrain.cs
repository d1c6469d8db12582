using MyPay.Grains.Banking;
using MyPay.Silo.Grains;
using MyPay.Silo.Reminders;

namespace MyPay.Grains.Money;

/// <summary>
/// Carries one recharge to its end. The wallet has already reserved the amount against its cap. Here the
/// bank moves the money (a firmbanking request keyed by this recharge), then the wallet is credited, with
/// the ledger entries, in one write. A durable reminder, set with the first write and cleared with the last,
/// resumes a recharge left without the bank's answer, including after a crash: money the bank moved is
/// never dropped. Every step is idempotent, so a resumed step that already happened changes nothing.
/// </summary>
public sealed class RechargeGrain(
    GrainId id,
    IPersistentState<RechargeState> state,
    IGrainFactory grains,
    FirmbankingOptions firmbanking,
    RechargeOptions options,
    TimeProvider time)
{
    public const string ResumeReminder = "resume";

    public RechargeRecord? Record => state.State.Record;

    public async Task<RechargeRecord> StartAsync(RechargeRequest request)
    {
        if (state.State.Record is null)
        {
            state.State.Record = new RechargeRecord(
                id.Key, request.MemberId, request.AmountWon, request.From, request.IdempotencyKey, $"recharge:{id.Key}",
                RechargeProgress.Pending, null, null, request.RequestedAt, null);
            state.Append(ReminderChange.Set(id, ResumeReminder, time.GetUtcNow() + options.ResumeInterval, options.ResumeInterval));
            await state.WriteStateAsync();
        }

        return await DriveAsync();
    }

    /// <summary>The reminder's tick: continue where the recharge stopped.</summary>
    public async Task OnReminderAsync(string name)
    {
        if (name == ResumeReminder)
        {
            await DriveAsync();
        }
    }

    private async Task<RechargeRecord> DriveAsync()
    {
        var record = state.State.Record!;
        if (record.Status != RechargeProgress.Pending)
        {
            return record;
        }

        var transfer = await grains.GetGrain<IFirmbankingGrain>(record.FirmbankingRequestId).Execute(
            new FirmbankingCommand(record.MemberId, "recharge", record.From, firmbanking.CorporateAccount, record.AmountWon));
        var wallet = grains.GetGrain<IWalletGrain>(record.MemberId);
        switch (transfer.Status)
        {
            case FirmbankingStatus.Succeeded:
                var completedAt = transfer.CompletedAt ?? time.GetUtcNow();
                var balanceWon = await wallet.CompleteRecharge(
                    new RechargeCompletion(record.RechargeId, record.FirmbankingRequestId, transfer.FeeWon, record.IdempotencyKey, completedAt));
                return await FinishAsync(record with { Status = RechargeProgress.Succeeded, BalanceAfterWon = balanceWon, CompletedAt = completedAt });
            case FirmbankingStatus.Failed:
                await wallet.ReleaseRecharge(record.RechargeId);
                return await FinishAsync(record with { Status = RechargeProgress.Failed, FailureReason = transfer.FailureReason, CompletedAt = transfer.CompletedAt });
            default:
                // No answer yet: the reservation stays, and the reminder comes back.
                return record;
        }
    }

    private async Task<RechargeRecord> FinishAsync(RechargeRecord record)
    {
        state.State.Record = record;
        state.Append(ReminderChange.Clear(id, ResumeReminder));
        await state.WriteStateAsync();
        return record;
    }
}
