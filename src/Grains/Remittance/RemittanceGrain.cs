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
using RecordConflictException = MyPay.Silo.Grains.RecordConflictException;
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

    /// <summary>
    /// The failure reason of a remittance whose Idempotency-Key the sender had used for another request longer ago than
    /// operation keys are kept (<see cref="IdempotencyKeyConstraints"/>).
    /// </summary>
    public const string KeyExpired = "idempotency-key-expired";

    /// <summary>The failure reason of a remittance the recipient's wallet had no room for under its balance cap.</summary>
    public const string RecipientCapExceeded = "recipient-cap-exceeded";

    /// <summary>The failure reason of a remittance the sender's wallet could not pay, even topped up.</summary>
    public const string InsufficientFunds = "insufficient-funds";

    /// <summary>The failure reason of a remittance whose automatic top-up the bank refused or the limits rejected.</summary>
    public const string TopUpFailed = "top-up-failed";

    private readonly CommandBatch<RemittanceState> state;
    private readonly FirmbankingOptions firmbanking;
    private readonly RemittanceOptions options;
    private readonly TimeProvider time;
    private readonly Recharger recharger;
    private readonly Resumption resumption;

    public RemittanceGrain(
        IOptions<FirmbankingOptions> firmbanking,
        IOptions<RemittanceOptions> options,
        TimeProvider time,
        Recharger recharger)
    {
        this.recharger = recharger;
        this.state = new CommandBatch<RemittanceState>(this, StateName);
        this.firmbanking = firmbanking.Value;
        this.options = options.Value;
        this.time = time;
        resumption = new Resumption(this, this.options.ResumeInterval);
    }

    public override Task OnActivateAsync(CancellationToken cancellationToken) => state.LoadAsync();

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
        var request = record.Request;
        if (record.Status == RemittanceStatus.Pending)
        {
            record = await DebitSenderAsync(record);
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

    /// <summary>
    /// The pending step. The recipient's wallet first makes room under its cap (to a member), then the sender's wallet
    /// gives the money — topped up from the sender's bank account first when it is short; a refusal gives the room
    /// back. Every call is keyed, so a resumed remittance gets the first answers back; a top-up still with the bank
    /// leaves the remittance pending, for the reminder to carry on.
    /// </summary>
    private async Task<RemittanceRecord> DebitSenderAsync(RemittanceRecord record)
    {
        var request = record.Request;
        var recipient = request.ToBank ? null : GrainFactory.GetGrain<IWalletGrain>(request.RecipientMemberId!);
        if (recipient is not null && !(await recipient.ReserveIncoming(record.RemittanceId, request.AmountWon)).Accepted)
        {
            return await FinishAsync(record with { Status = RemittanceStatus.Failed, FailureReason = RecipientCapExceeded });
        }

        var operation = new OperationKey(request.IdempotencyKey, request.RequestHash);
        string? failure;
        try
        {
            var debit = await DebitAsync(record, operation);
            failure = debit == RemittanceDebit.Debited ? null : InsufficientFunds;
            if (failure is not null)
            {
                var sender = GrainFactory.GetGrain<IWalletGrain>(request.SenderId);
                var topUp = await recharger.TopUpAsync(request.SenderId, request.AmountWon + record.FeeWon, await sender.GetBalance(), operation, Timeout.InfiniteTimeSpan);
                if (topUp.Status == RechargeAttemptStatus.Pending)
                {
                    // Still with the bank: the reservation on the recipient's side stays, and the reminder comes back.
                    return record;
                }

                failure = topUp.Status switch
                {
                    RechargeAttemptStatus.Succeeded => await DebitAsync(record, Recharger.AfterTopUpKey(operation)) == RemittanceDebit.Debited ? null : InsufficientFunds,
                    RechargeAttemptStatus.NoLinkedBankAccount or RechargeAttemptStatus.MemberNotActive => InsufficientFunds,
                    _ => TopUpFailed,
                };
            }
        }
        catch (OperationKeyReusedException)
        {
            // The sender's key was already spent on another request (a recharge, a payment): nothing moved.
            failure = KeyReused;
        }
        catch (RecordConflictException conflict) when (IdempotencyKeyConstraints.IsExpiredKey(conflict))
        {
            // Spent so long ago that its operation key is pruned, while the ledger or a recharge still holds it: the
            // refused write (the debit, or the top-up's reservation) wrote nothing.
            failure = KeyExpired;
        }

        if (failure is not null)
        {
            if (recipient is not null)
            {
                await recipient.ReleaseIncoming(record.RemittanceId);
            }

            return await FinishAsync(record with { Status = RemittanceStatus.Failed, FailureReason = failure });
        }

        return await SaveAsync(record with { Status = request.ToBank ? RemittanceStatus.Held : RemittanceStatus.Debited });
    }

    /// <summary>The sender's wallet gives the money: to the recipient's wallet, or into the hold of a bank transfer.</summary>
    private Task<RemittanceDebit> DebitAsync(RemittanceRecord record, OperationKey operation)
    {
        var request = record.Request;
        var sender = GrainFactory.GetGrain<IWalletGrain>(request.SenderId);
        return request.ToBank
            ? sender.HoldForRemittance(record.RemittanceId, request.AmountWon + record.FeeWon, operation, request.At)
            : sender.SendToMember(record.RemittanceId, request.RecipientMemberId!, request.AmountWon, operation, request.At);
    }

    /// <summary>The bank moves the amount from the corporate account; the hold is then posted, or voided if the bank refused.</summary>
    private async Task<RemittanceRecord> SettleWithBankAsync(RemittanceRecord record)
    {
        var request = record.Request;
        // A command no bank could carry out (its own account on both sides) comes back Failed, never sent: the hold goes back.
        var transfer = await GrainFactory.GetGrain<IFirmbankingGrain>(record.FirmbankingRequestId).Execute(
            new FirmbankingCommand(request.SenderId, "remittance", firmbanking.CorporateAccount, request.RecipientAccount!, request.AmountWon));
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
        var completedAt = record.CompletedAt ?? time.GetUtcNow();
        var finished = await SaveAsync(record with { CompletedAt = completedAt }, [.. records ?? [], new RemittanceFinished(record.RemittanceId, completedAt)]);
        await resumption.DisarmAsync();
        return finished;
    }
}
