using Microsoft.Extensions.Options;
using MyPay.Grains.Diagnostics;
using MyPay.Silo.Batching;
using MyPay.Silo.Grains;
using Orleans;

namespace MyPay.Grains.Banking;

/// <summary>
/// One bank command and everything that happened to it. Every state change is written before the
/// next step, so after a crash the grain knows whether the command may have reached the bank (Sent
/// or Unknown) and asks the bank before doing anything else; a caller that wrote the may-be-sent step itself
/// (<see cref="IFirmbankingGrain.ExecuteRecorded"/>, a recharge's reservation) spares the grain that first write. It only ever re-sends under its own
/// request id, which the bank applies at most once: money never moves twice, whatever fails.
/// It never records Failed on uncertainty: only the bank's own answer fails a command. The fee recorded
/// is the one the bank says it charged the corporate account, so the ledger books what the bank took.
/// </summary>
public sealed class FirmbankingGrain : Grain, IFirmbankingGrain
{
    /// <summary>History entries kept per request; a request resumed again and again keeps its first and latest steps.</summary>
    public const int HistoryMax = 50;

    /// <summary>The stored state's name: the grain type name it had before Orleans, so stored rows carry over.</summary>
    public const string StateName = "firmbanking";

    private readonly CommandBatch<FirmbankingState> state;
    private readonly IBankGateway bank;
    private readonly TimeProvider time;
    private readonly FirmbankingOptions options;

    public FirmbankingGrain(
        IBankGateway bank, TimeProvider time, IOptions<FirmbankingOptions> options)
    {
        this.state = new CommandBatch<FirmbankingState>(this, StateName);
        this.bank = bank;
        this.time = time;
        this.options = options.Value;
    }

    private string RequestId => this.GetPrimaryKeyString();

    public async Task<FirmbankingRecord?> GetRecord()
    {
        await state.LoadUnlessKnownAsync();
        return state.Committed.Record;
    }

    public async Task<FirmbankingRecord> Execute(FirmbankingCommand command)
    {
        await state.LoadUnlessKnownAsync();
        return await ExecuteAsync(command, recordedByCaller: false);
    }

    /// <summary>
    /// A caller's request id is new nearly always (a recharge's, made for it), so the grain assumes nothing is stored
    /// rather than read (<see cref="CommandBatch{TState}.AssumeNew"/>): the bank command is sent, and its answer's write
    /// stores the first record. If one was stored after all (the recharge resumed after a crash), that write loses to it;
    /// the grain then reads it and carries the command on from there, as <see cref="Execute"/> would. The extra send
    /// under the same id is answered by the bank with its first outcome.
    /// </summary>
    public async Task<FirmbankingRecord> ExecuteRecorded(FirmbankingCommand command)
    {
        state.AssumeNew();
        try
        {
            return await ExecuteAsync(command, recordedByCaller: true);
        }
        catch (StateConflictException)
        {
            await state.LoadAsync();
            return await ExecuteAsync(command, recordedByCaller: true);
        }
    }

    private async Task<FirmbankingRecord> ExecuteAsync(FirmbankingCommand command, bool recordedByCaller)
    {
        if (state.Committed.Record is { } existing)
        {
            return existing.Command == command
                ? existing.IsFinal ? existing : await DriveAsync(existing, firstSend: false)
                : throw new FirmbankingRequestReusedException(RequestId);
        }

        if (command.AmountWon <= 0 || command.From == command.To)
        {
            // A command the bank could never carry out (MyPay's own account on both sides, say) is a business outcome, not
            // an exception: Failed with its reason, as a bank's refusal is, so the caller gives back what it held. Nothing
            // was sent, and a repeat gets the same answer. It is recorded only when the caller indexed it as sent, to end that row.
            var at = time.GetUtcNow();
            var reason = $"never sent to the bank: a bank command moves a positive amount between two accounts; got {command.AmountWon} won from {command.From} to {command.To}.";
            var refused = new FirmbankingRecord(RequestId, command, FirmbankingStatus.Failed, reason, 0, at, at, [new(at, "requested"), new(at, $"failed: {reason}")]);
            return recordedByCaller ? await SaveAsync(refused) : refused;
        }

        // Requested and Sent are written as one step, just before the first send: after a crash the grain then
        // knows the command may have reached the bank, and asks before anything else. A caller that wrote as much
        // already (and will call again after a crash) spares the write.
        var now = time.GetUtcNow();
        var sent = new FirmbankingRecord(
            RequestId, command, FirmbankingStatus.Sent, null, 0, now, null, [new FirmbankingEvent(now, "requested"), new FirmbankingEvent(now, "sent")]);
        if (!recordedByCaller)
        {
            await SaveAsync(sent);
        }

        return await DriveAsync(sent, firstSend: true);
    }

    public async Task<FirmbankingRecord?> ResolveUnfinished()
    {
        await state.LoadUnlessKnownAsync();
        return state.Committed.Record is { IsFinal: false } unfinished ? await DriveAsync(unfinished, firstSend: false) : state.Committed.Record;
    }

    private async Task<FirmbankingRecord> DriveAsync(FirmbankingRecord record, bool firstSend)
    {
        var transfer = new BankTransfer(RequestId, record.Command.From, record.Command.To, record.Command.AmountWon);
        for (var round = 0; round < options.RoundsMax; round++)
        {
            TransferOutcome outcome;
            if (firstSend && round == 0)
            {
                outcome = await bank.TransferAsync(transfer, CancellationToken.None);
            }
            else
            {
                // Sent or Unknown: it may have reached the bank. Ask before anything else.
                outcome = await bank.GetTransferAsync(RequestId, CancellationToken.None);
                if (outcome.Status == TransferStatus.NotFound)
                {
                    record = await TransitionAsync(record, FirmbankingStatus.Sent, "the bank has no record of it: sent again under the same id");
                    outcome = await bank.TransferAsync(transfer, CancellationToken.None);
                }
            }

            switch (outcome.Status)
            {
                case TransferStatus.Succeeded:
                    return await CompleteAsync(record, FirmbankingStatus.Succeeded, null, outcome.FeeWon);
                case TransferStatus.Failed:
                    return await CompleteAsync(record, FirmbankingStatus.Failed, outcome.Reason ?? "refused by the bank", 0);
                default:
                    record = await TransitionAsync(record, FirmbankingStatus.Unknown, $"no answer: {outcome.Reason}");
                    break;
            }
        }

        return record;
    }

    private Task<FirmbankingRecord> TransitionAsync(FirmbankingRecord record, FirmbankingStatus status, string what) =>
        AnsweredAsync(record with { Status = status, History = Append(record.History, what) });

    private Task<FirmbankingRecord> CompleteAsync(FirmbankingRecord record, FirmbankingStatus status, string? reason, long feeWon) =>
        AnsweredAsync(record with
        {
            Status = status,
            FailureReason = reason,
            FeeWon = feeWon,
            CompletedAt = time.GetUtcNow(),
            History = Append(record.History, status == FirmbankingStatus.Succeeded ? "succeeded" : $"failed: {reason}"),
        });

    /// <summary>Writes the record of the bank's answer (or of its silence), then counts it.</summary>
    private async Task<FirmbankingRecord> AnsweredAsync(FirmbankingRecord record)
    {
        var saved = await SaveAsync(record);
        MoneyMetrics.BankAnswered(saved);
        return saved;
    }

    /// <summary>Writes the record, with its index row (the member's list of requests, and whether an answer is awaited) in the same write.</summary>
    private Task<FirmbankingRecord> SaveAsync(FirmbankingRecord record) => state.Run(current =>
    {
        current.Record = record;
        current.Records.Append(FirmbankingIndexRow.Of(record));
        return record;
    }, reapply: false);

    private List<FirmbankingEvent> Append(IReadOnlyList<FirmbankingEvent> history, string what)
    {
        var appended = new List<FirmbankingEvent>(history) { new(time.GetUtcNow(), what) };
        if (appended.Count > HistoryMax)
        {
            appended.RemoveAt(1);
        }

        return appended;
    }
}

/// <summary>A request id was reused for a different command. Request ids identify one command for ever.</summary>
[GenerateSerializer]
public sealed class FirmbankingRequestReusedException(string requestId)
    : Exception($"Firmbanking request id '{requestId}' was already used for a different command.");
