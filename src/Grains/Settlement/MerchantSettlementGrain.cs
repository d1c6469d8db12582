using System.Text.Json.Serialization;
using Microsoft.Extensions.Options;
using MyPay.Grains.Banking;
using MyPay.Grains.Events;
using MyPay.Grains.Ledger;
using MyPay.Grains.Members;
using MyPay.Silo.Batching;
using MyPay.Silo.Events;
using MyPay.Silo.Hosting;
using MyPay.Silo.Storage;
using Orleans;
using Orleans.Concurrency;
using Orleans.Runtime;

namespace MyPay.Grains.Settlement;

/// <summary>One merchant's settlements (정산), keyed by merchant id: the one place its payments and refunds are claimed, so no two settlements include one.</summary>
public interface IMerchantSettlementGrain : IGrainWithStringKey
{
    /// <summary>
    /// Settles the merchant for <paramref name="period"/>, once: claims the payments and refunds made before its cut-off
    /// that no settlement includes yet, and pays their net to the merchant's bank account. Null when there was nothing to
    /// claim, or this period (or a later one) was claimed already. Every settlement of the merchant still unpaid is
    /// tried again too.
    /// </summary>
    Task<SettlementRecord?> Settle(SettlementPeriod period);

    /// <summary>The merchant's settlements not paid yet.</summary>
    [ReadOnly]
    Task<IReadOnlyList<SettlementRecord>> GetOpen();
}

[GenerateSerializer]
public sealed class MerchantSettlementState : IPublishingState
{
    /// <summary>The latest cut-off claimed: a period ending at or before it has nothing left to claim for this merchant.</summary>
    [Id(0)]
    public DateTimeOffset? ClaimedUpTo { get; set; }

    /// <summary>Settlements claimed and not paid yet, oldest first.</summary>
    [Id(1)]
    public List<SettlementRecord> Open { get; set; } = [];

    /// <summary>The number of the last event on the merchant's settlement stream.</summary>
    [Id(2)]
    public long EventSequence { get; set; }

    /// <summary>The settlement rows, claims and journal entries of a write.</summary>
    [JsonIgnore]
    [field: NonSerialized]
    public PendingRecords Records { get; } = new();
}

/// <summary>
/// Settles one merchant, one idempotent step at a time, each step written before the next: claim (the settlement row
/// and its payments and refunds, in one write), send (the request id stored before the bank is asked), then post
/// (<c>receivable → corporate_cash</c> and the bank's fee, with the paid status). A settlement the merchant has no
/// account for, or whose transfer failed, stays pending and is tried again by the grain's durable reminder, armed
/// before a claim and disarmed by a tick that finds nothing open; a crash between the bank's transfer and the posting resumes
/// under the same request id, which the bank applies once, so the merchant is never paid twice. Its writes commit on
/// the bulk committer: a claim of a busy merchant's day is thousands of rows, and on the default committer it would
/// hold up every payment queued behind it.
/// </summary>
[GrainType(StateName)]
public sealed class MerchantSettlementGrain : Grain, IMerchantSettlementGrain, IRemindable
{
    /// <summary>The stored state's name and the grain type.</summary>
    public const string StateName = "settlement";

    /// <summary>Why a settlement waits when the merchant has linked no bank account.</summary>
    public const string NoLinkedAccount = "no-linked-account";

    private readonly CommandBatch<MerchantSettlementState> state;
    private readonly SettlementQueries queries;
    private readonly FirmbankingOptions firmbanking;
    private readonly TimeProvider time;
    private readonly Resumption resumption;

    public MerchantSettlementGrain(
        SettlementQueries queries,
        IOptions<FirmbankingOptions> firmbanking,
        IOptions<SettlementOptions> options,
        TimeProvider time)
    {
        this.state = new CommandBatch<MerchantSettlementState>(this, StateName, GroupCommitStorageExtensions.BulkProviderName);
        this.queries = queries;
        this.firmbanking = firmbanking.Value;
        this.time = time;
        resumption = new Resumption(this, options.Value.RetryInterval);
    }

    public override Task OnActivateAsync(CancellationToken cancellationToken) => state.LoadAsync();

    private string MerchantId => this.GetPrimaryKeyString();

    public Task<IReadOnlyList<SettlementRecord>> GetOpen() => Task.FromResult<IReadOnlyList<SettlementRecord>>([.. state.Committed.Open]);

    public async Task<SettlementRecord?> Settle(SettlementPeriod period)
    {
        var claimed = state.Committed.ClaimedUpTo is { } upTo && period.Cutoff <= upTo ? null : await ClaimAsync(period);
        var driven = await DriveOpenAsync();
        return claimed is null ? null : driven.Find(settlement => settlement.SettlementId == claimed.SettlementId) ?? claimed;
    }

    /// <summary>The reminder's tick: carries every open settlement on, then disarms once none is left open.</summary>
    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName == Resumption.ReminderName)
        {
            await DriveOpenAsync();
            await resumption.DisarmWhenIdleAsync(() => state.Committed.Open.Count == 0);
        }
    }

    /// <summary>Claims what the period owes the merchant; a period netting to nothing or less is carried, claiming nothing.</summary>
    private async Task<SettlementRecord?> ClaimAsync(SettlementPeriod period)
    {
        var unsettled = await queries.UnsettledAsync(MerchantId, period.Cutoff, CancellationToken.None);
        if (unsettled.Count == 0)
        {
            return null;
        }

        var netWon = unsettled.Sum(item => item.NetWon);
        var owed = netWon > 0;
        var settlement = new SettlementRecord(
            SettlementRecord.IdFor(MerchantId, period), MerchantId, period, netWon, owed ? unsettled.Count : 0,
            owed ? SettlementStatus.Pending : SettlementStatus.Carried, Attempt: 1, null, null, 0, null, time.GetUtcNow(), null);
        // Armed before the claim (free when armed already) and left armed: a merchant settled period after period keeps
        // one reminder, which its tick disarms once nothing is open, instead of arming and disarming it each time.
        using var guard = owed ? await resumption.GuardAsync() : null;
        return await state.Run(
            current =>
            {
                current.ClaimedUpTo = period.Cutoff;
                if (owed)
                {
                    current.Open.Add(settlement);
                }

                current.Records.Append(new SettlementWrite(settlement, owed ? [.. unsettled.Select(item => item.EntryId)] : []));
                return settlement;
            },
            reapply: false);
    }

    /// <summary>Carries every open settlement as far as it goes now.</summary>
    private async Task<List<SettlementRecord>> DriveOpenAsync()
    {
        var driven = new List<SettlementRecord>();
        foreach (var open in state.Committed.Open.ToList())
        {
            driven.Add(await DriveAsync(open));
        }

        return driven;
    }

    private async Task<SettlementRecord> DriveAsync(SettlementRecord settlement)
    {
        if (settlement.Status == SettlementStatus.Pending)
        {
            if (await GrainFactory.GetGrain<IMemberGrain>(MerchantId).GetBankAccounts() is not [var account, ..])
            {
                return settlement.FailureReason == NoLinkedAccount ? settlement : await SaveAsync(settlement with { FailureReason = NoLinkedAccount });
            }

            settlement = await SaveAsync(settlement with
            {
                Status = SettlementStatus.Sending,
                To = new BankAccountNumber(account.BankCode, account.AccountNumber),
                FirmbankingRequestId = $"{settlement.SettlementId}:{settlement.Attempt}",
                FailureReason = null,
            });
        }

        // A command no bank could carry out (the corporate account on both sides) comes back Failed, never sent: retried later.
        var transfer = await GrainFactory.GetGrain<IFirmbankingGrain>(settlement.FirmbankingRequestId!).Execute(
            new FirmbankingCommand(MerchantId, "settlement", firmbanking.CorporateAccount, settlement.To!, settlement.NetWon));

        switch (transfer.Status)
        {
            case FirmbankingStatus.Succeeded:
                var at = transfer.CompletedAt ?? time.GetUtcNow();
                List<JournalEntry> entries =
                [
                    new JournalEntry(
                        $"settlement:{settlement.SettlementId}", "settlement", MerchantId, null, settlement.SettlementId, at,
                        [new Posting(Accounts.Receivable(MerchantId), settlement.NetWon), new Posting(Accounts.CorporateCash, -settlement.NetWon)]),
                ];
                if (transfer.FeeWon > 0)
                {
                    entries.Add(JournalEntry.BankFee(transfer.RequestId, MerchantId, transfer.FeeWon, at));
                }

                return await SaveAsync(settlement with { Status = SettlementStatus.Paid, BankFeeWon = transfer.FeeWon, PaidAt = at }, entries);
            case FirmbankingStatus.Failed:
                return await RetryLaterAsync(settlement, transfer.FailureReason);
            default:
                // No answer from the bank yet: the request stays, and the reminder asks again.
                return settlement;
        }
    }

    /// <summary>Back to pending, to be sent again under the next attempt's request id.</summary>
    private Task<SettlementRecord> RetryLaterAsync(SettlementRecord settlement, string? reason) =>
        SaveAsync(settlement with { Status = SettlementStatus.Pending, Attempt = settlement.Attempt + 1, FailureReason = reason ?? "refused by the bank" });

    /// <summary>Writes the settlement's new step, with its row and <paramref name="entries"/> in the same transaction.</summary>
    private Task<SettlementRecord> SaveAsync(SettlementRecord settlement, IReadOnlyList<JournalEntry>? entries = null) => state.Run(
        current =>
        {
            var index = current.Open.FindIndex(open => open.SettlementId == settlement.SettlementId);
            if (settlement.IsFinal)
            {
                current.Open.RemoveAt(index);
            }
            else
            {
                current.Open[index] = settlement;
            }

            current.Records.Append(new SettlementWrite(settlement, []));
            foreach (var entry in entries ?? [])
            {
                current.Records.Append(entry);
            }

            if (settlement is { Status: SettlementStatus.Paid, PaidAt: { } paidAt })
            {
                current.PublishAbout(
                    DomainEvents.SettlementStream(MerchantId), DomainEvents.SettlementPaid, settlement.SettlementId,
                    new SettlementPaidEvent(settlement.SettlementId, MerchantId, settlement.Period.Id, settlement.NetWon, settlement.Items, settlement.BankFeeWon, paidAt), paidAt);
            }

            return settlement;
        },
        reapply: false);
}
