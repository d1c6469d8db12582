using MyPay.Grains.Banking;
using MyPay.Grains.Ledger;
using MyPay.Grains.Money;
using MyPay.Silo.Grains;
using MyPay.Silo.Reminders;

namespace MyPay.Grains.Remittance;

/// <summary>One remittance (송금), keyed by an id derived from the sender and their Idempotency-Key.</summary>
public interface IRemittanceGrain
{
    /// <summary>Starts the remittance, or continues (or returns) the one this id already names. Throws <see cref="OperationKeyReusedException"/> for another request under the same key.</summary>
    Task<RemittanceRecord> Start(RemittanceRequest request);

    Task<RemittanceRecord?> GetRecord();
}

public sealed class RemittanceState
{
    public RemittanceRecord? Record { get; set; }
}

/// <summary>
/// Carries a remittance to its end, one idempotent step at a time, each step's outcome written before the next:
/// the sender's wallet gives the money (to the recipient's wallet in one journal entry, or into a hold for a
/// bank transfer), then the recipient's wallet counts it, or the bank moves it from the corporate account and
/// the hold is posted — or, if the bank refuses, voided back to the sender. A durable reminder, set with the
/// first write and cleared with the last, resumes a remittance a crash interrupted: it completes or voids,
/// never both, never neither.
/// </summary>
public sealed class RemittanceGrain(
    GrainId id,
    IPersistentState<RemittanceState> state,
    IGrainFactory grains,
    FirmbankingOptions firmbanking,
    RemittanceOptions options,
    TimeProvider time)
{
    public const string ResumeReminder = "resume";

    /// <summary>The failure reason of a remittance whose Idempotency-Key the sender had used for another request.</summary>
    public const string KeyReused = "idempotency-key-reused";

    public RemittanceRecord? Record => state.State.Record;

    public async Task<RemittanceRecord> StartAsync(RemittanceRequest request)
    {
        if (state.State.Record is { } existing)
        {
            return existing.Request.RequestHash == request.RequestHash && existing.Request.SenderId == request.SenderId
                ? await DriveAsync()
                : throw new OperationKeyReusedException(id, request.IdempotencyKey);
        }

        state.State.Record = new RemittanceRecord(
            id.Key, request, request.ToBank ? options.BankTransferFeeWon : 0, RemittanceStatus.Pending, null, $"remittance:{id.Key}", null);
        state.Append(new RemittanceRow(id.Key, request.SenderId, request.RecipientMemberId, request.RecipientAccount, request.AmountWon, request.At));
        state.Append(ReminderChange.Set(id, ResumeReminder, time.GetUtcNow() + options.ResumeInterval, options.ResumeInterval));
        await state.WriteStateAsync();
        return await DriveAsync();
    }

    public async Task OnReminderAsync(string name)
    {
        if (name == ResumeReminder)
        {
            await DriveAsync();
        }
    }

    private async Task<RemittanceRecord> DriveAsync()
    {
        var record = state.State.Record!;
        var sender = grains.GetGrain<IWalletGrain>(record.Request.SenderId);
        var request = record.Request;
        if (record.Status == RemittanceStatus.Pending)
        {
            var operation = new OperationKey(request.IdempotencyKey, request.RequestHash);
            RemittanceDebit debit;
            try
            {
                debit = request.ToBank
                    ? await sender.HoldForRemittance(record.RemittanceId, request.AmountWon + record.FeeWon, operation, request.At)
                    : await sender.SendToMember(record.RemittanceId, request.RecipientMemberId!, request.AmountWon, operation, request.At);
            }
            catch (OperationKeyReusedException)
            {
                // The sender's key was already spent on another request (a recharge, a payment): nothing moved.
                return await FinishAsync(record with { Status = RemittanceStatus.Failed, FailureReason = KeyReused });
            }

            record = debit == RemittanceDebit.InsufficientFunds
                ? await FinishAsync(record with { Status = RemittanceStatus.Failed, FailureReason = "insufficient-funds" })
                : await SaveAsync(record with { Status = request.ToBank ? RemittanceStatus.Held : RemittanceStatus.Debited });
        }

        if (record.Status == RemittanceStatus.Debited)
        {
            await grains.GetGrain<IWalletGrain>(request.RecipientMemberId!).ReceiveRemittance(record.RemittanceId, request.AmountWon);
            record = await FinishAsync(record with { Status = RemittanceStatus.Completed });
        }

        if (record.Status == RemittanceStatus.Held)
        {
            record = await SettleWithBankAsync(record);
        }

        return record;
    }

    /// <summary>The bank moves the amount from the corporate account; the hold is then posted, or voided if the bank refused.</summary>
    private async Task<RemittanceRecord> SettleWithBankAsync(RemittanceRecord record)
    {
        var request = record.Request;
        FirmbankingRecord transfer;
        try
        {
            transfer = await grains.GetGrain<IFirmbankingGrain>(record.FirmbankingRequestId).Execute(
                new FirmbankingCommand(request.SenderId, "remittance", firmbanking.CorporateAccount, request.RecipientAccount!, request.AmountWon));
        }
        catch (ArgumentException exception)
        {
            // A command the bank could never carry out (its own account on both sides): nothing was sent, so the hold goes back.
            await grains.GetGrain<IWalletGrain>(request.SenderId).VoidRemittanceHold(record.RemittanceId, request.AmountWon + record.FeeWon, time.GetUtcNow());
            return await FinishAsync(record with { Status = RemittanceStatus.Voided, FailureReason = exception.Message });
        }

        switch (transfer.Status)
        {
            case FirmbankingStatus.Succeeded:
                var at = transfer.CompletedAt ?? time.GetUtcNow();
                List<Posting> postings = [new Posting(Accounts.RemittanceHold(record.RemittanceId), request.AmountWon + record.FeeWon), new Posting(Accounts.CorporateCash, -request.AmountWon)];
                if (record.FeeWon > 0)
                {
                    postings.Add(new Posting(Accounts.FeeRevenue, -record.FeeWon));
                }

                state.Append(new JournalEntry($"remittance-post:{record.RemittanceId}", "remittance-post", request.SenderId, null, record.RemittanceId, at, postings));
                if (transfer.FeeWon > 0)
                {
                    state.Append(new JournalEntry(
                        $"bank-fee:{record.FirmbankingRequestId}", "bank-fee", request.SenderId, null, record.FirmbankingRequestId, at,
                        [new Posting(Accounts.BankFeeExpense, transfer.FeeWon), new Posting(Accounts.CorporateCash, -transfer.FeeWon)]));
                }

                return await FinishAsync(record with { Status = RemittanceStatus.Completed, CompletedAt = at });
            case FirmbankingStatus.Failed:
                await grains.GetGrain<IWalletGrain>(request.SenderId).VoidRemittanceHold(record.RemittanceId, request.AmountWon + record.FeeWon, time.GetUtcNow());
                return await FinishAsync(record with { Status = RemittanceStatus.Voided, FailureReason = transfer.FailureReason });
            default:
                // No answer from the bank yet: the hold stays, and the reminder comes back.
                return record;
        }
    }

    private async Task<RemittanceRecord> SaveAsync(RemittanceRecord record)
    {
        state.State.Record = record;
        await state.WriteStateAsync();
        return record;
    }

    private Task<RemittanceRecord> FinishAsync(RemittanceRecord record)
    {
        state.Append(ReminderChange.Clear(id, ResumeReminder));
        return SaveAsync(record with { CompletedAt = record.CompletedAt ?? time.GetUtcNow() });
    }
}

internal sealed class RemittanceGrainReference(GrainReference<RemittanceGrain> grain) : IRemittanceGrain
{
    public Task<RemittanceRecord> Start(RemittanceRequest request) => grain.Call(remittance => remittance.StartAsync(request));

    public Task<RemittanceRecord?> GetRecord() => grain.Read(remittance => remittance.Record);
}
