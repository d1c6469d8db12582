using MyPay.Grains.Banking;
using MyPay.Grains.Ledger;
using MyPay.Grains.Money;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Options;
using MyPay.Silo.Batching;
using MyPay.Silo.Storage;
using Orleans;
using Orleans.Concurrency;
using Orleans.Runtime;
using OperationKey = MyPay.Silo.Grains.OperationKey;
using OperationKeyReusedException = MyPay.Silo.Grains.OperationKeyReusedException;
using StorageId = MyPay.Silo.Grains.GrainId;

namespace MyPay.Grains.Remittance;

/// <summary>One remittance (송금), keyed by an id derived from the sender and their Idempotency-Key.</summary>
public interface IRemittanceGrain : IGrainWithStringKey
{
    /// <summary>Starts the remittance, or continues (or returns) the one this id already names. Throws <see cref="OperationKeyReusedException"/> for another request under the same key.</summary>
    Task<RemittanceRecord> Start(RemittanceRequest request);

    [ReadOnly]
    Task<RemittanceRecord?> GetRecord();
}

[GenerateSerializer]
public sealed class RemittanceState : IRecordingState
{
    [Id(0)]
    public RemittanceRecord? Record { get; set; }

    /// <summary>The remittance's row with its first write, and its ledger entries with the write that posts them.</summary>
    [JsonIgnore]
    [field: NonSerialized]
    public PendingRecords Records { get; } = new();
}

/// <summary>
/// Carries a remittance to its end, one idempotent step at a time, each step's outcome written before the next:
/// the sender's wallet gives the money (to the recipient's wallet in one journal entry, or into a hold for a
/// bank transfer), then the recipient's wallet counts it, or the bank moves it from the corporate account and
/// the hold is posted — or, if the bank refuses, voided back to the sender. A durable reminder, armed before the
/// first write and disarmed after the last, resumes a remittance a crash interrupted: it completes or voids,
/// never both, never neither.
/// </summary>
[GrainType(StateName)]
public sealed class RemittanceGrain : Grain, IRemittanceGrain, IRemindable
{
    /// <summary>The stored state's name: the grain type name it had before Orleans, so stored rows carry over.</summary>
    public const string StateName = "remittance";

    /// <summary>The failure reason of a remittance whose Idempotency-Key the sender had used for another request.</summary>
    public const string KeyReused = "idempotency-key-reused";

    private readonly CommandBatch<RemittanceState> state;
    private readonly FirmbankingOptions firmbanking;
    private readonly RemittanceOptions options;
    private readonly TimeProvider time;
    private readonly Resumption resumption;

    public RemittanceGrain(
        [PersistentState(StateName)] IPersistentState<RemittanceState> state,
        IOptions<FirmbankingOptions> firmbanking,
        IOptions<RemittanceOptions> options,
        TimeProvider time)
    {
        this.state = new CommandBatch<RemittanceState>(this, state, StateName);
        this.firmbanking = firmbanking.Value;
        this.options = options.Value;
        this.time = time;
        resumption = new Resumption(this, this.options.ResumeInterval);
    }

    private string RemittanceId => this.GetPrimaryKeyString();

    public Task<RemittanceRecord?> GetRecord() => Task.FromResult(state.Committed.Record);

    public async Task<RemittanceRecord> Start(RemittanceRequest request)
    {
        if (state.Committed.Record is { } existing)
        {
            return existing.Request.RequestHash == request.RequestHash && existing.Request.SenderId == request.SenderId
                ? await DriveAsync()
                : throw new OperationKeyReusedException(new StorageId(StateName, RemittanceId), request.IdempotencyKey);
        }

        var started = new RemittanceRecord(
            RemittanceId, request, request.ToBank ? options.BankTransferFeeWon : 0, RemittanceStatus.Pending, null, $"remittance:{RemittanceId}", null);
        await resumption.ArmAsync();
        await SaveAsync(started, [new RemittanceRow(RemittanceId, request.SenderId, request.RecipientMemberId, request.RecipientAccount, request.AmountWon, request.At)]);
        return await DriveAsync();
    }

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName == Resumption.ReminderName && (state.Committed.Record is null || (await DriveAsync()).IsFinal))
        {
            await resumption.DisarmAsync();
        }
    }

    private async Task<RemittanceRecord> DriveAsync()
    {
        var record = state.Committed.Record!;
        var sender = GrainFactory.GetGrain<IWalletGrain>(record.Request.SenderId);
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
            await GrainFactory.GetGrain<IWalletGrain>(request.RecipientMemberId!).ReceiveRemittance(record.RemittanceId, request.AmountWon, time.GetUtcNow());
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
            transfer = await GrainFactory.GetGrain<IFirmbankingGrain>(record.FirmbankingRequestId).Execute(
                new FirmbankingCommand(request.SenderId, "remittance", firmbanking.CorporateAccount, request.RecipientAccount!, request.AmountWon));
        }
        catch (ArgumentException exception)
        {
            // A command the bank could never carry out (its own account on both sides): nothing was sent, so the hold goes back.
            await GrainFactory.GetGrain<IWalletGrain>(request.SenderId).VoidRemittanceHold(record.RemittanceId, request.AmountWon + record.FeeWon, time.GetUtcNow());
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

                List<JournalEntry> entries = [new JournalEntry($"remittance-post:{record.RemittanceId}", "remittance-post", request.SenderId, null, record.RemittanceId, at, postings)];
                if (transfer.FeeWon > 0)
                {
                    entries.Add(JournalEntry.BankFee(record.FirmbankingRequestId, request.SenderId, transfer.FeeWon, at));
                }

                return await FinishAsync(record with { Status = RemittanceStatus.Completed, CompletedAt = at }, entries);
            case FirmbankingStatus.Failed:
                await GrainFactory.GetGrain<IWalletGrain>(request.SenderId).VoidRemittanceHold(record.RemittanceId, request.AmountWon + record.FeeWon, time.GetUtcNow());
                return await FinishAsync(record with { Status = RemittanceStatus.Voided, FailureReason = transfer.FailureReason });
            default:
                // No answer from the bank yet: the hold stays, and the reminder comes back.
                return record;
        }
    }

    /// <summary>Writes the record, with <paramref name="records"/> (rows, journal entries) in the same transaction.</summary>
    private Task<RemittanceRecord> SaveAsync(RemittanceRecord record, IReadOnlyList<object>? records = null) => state.Run(current =>
    {
        current.Record = record;
        foreach (var appended in records ?? [])
        {
            current.Records.Append(appended);
        }

        return record;
    }, reapply: false);

    /// <summary>Writes the final record, then disarms the reminder: a crash in between leaves a tick that finds it final and disarms.</summary>
    private async Task<RemittanceRecord> FinishAsync(RemittanceRecord record, IReadOnlyList<object>? records = null)
    {
        var finished = await SaveAsync(record with { CompletedAt = record.CompletedAt ?? time.GetUtcNow() }, records);
        await resumption.DisarmAsync();
        return finished;
    }
}
