using Microsoft.Extensions.Options;
using MyPay.Grains.Diagnostics;
using MyPay.Silo.Batching;
using Orleans;

namespace MyPay.Grains.Banking;

/// <summary>
/// One bank command and everything that happened to it. Every state change is written before the
/// next step, so after a crash the grain knows whether the command may have reached the bank (Sent
/// or Unknown) and asks the bank before doing anything else. A command whose caller writes its steps
/// (<see cref="IFirmbankingGrain.ExecuteRecorded"/>, a recharge's) is the caller's to store: the grain writes nothing for it.
/// It only ever re-sends under its own request id, which the bank applies at most once: money never moves twice,
/// whatever fails. It never records Failed on uncertainty: only the bank's own answer fails a command. The fee recorded
/// is the one the bank says it charged the corporate account, so the ledger books what the bank took.
/// </summary>
public sealed class FirmbankingGrain : Grain, IFirmbankingGrain
{
    /// <summary>The stored state's name: the grain type name it had before Orleans, so stored rows carry over.</summary>
    public const string StateName = "firmbanking";

    private readonly CommandBatch<FirmbankingState> state;
    private readonly FirmbankingQueries rows;
    private readonly IBankGateway bank;
    private readonly TimeProvider time;
    private readonly FirmbankingOptions options;

    /// <summary>The bank's final answer to a command its caller writes, kept while the grain lives: a second driver gets it without a send.</summary>
    private FirmbankingRecord? answeredForCaller;

    public FirmbankingGrain(
        FirmbankingQueries rows, IBankGateway bank, TimeProvider time, IOptions<FirmbankingOptions> options)
    {
        this.state = new CommandBatch<FirmbankingState>(this, StateName);
        this.rows = rows;
        this.bank = bank;
        this.time = time;
        this.options = options.Value;
    }

    private string RequestId => this.GetPrimaryKeyString();

    /// <summary>
    /// The stored record: the grain's state, or the request's row for a command its caller writes. A final answer in the row
    /// wins over a state still waiting (a command its caller resumed after the grain had written a step).
    /// </summary>
    public async Task<FirmbankingRecord?> GetRecord()
    {
        await state.LoadUnlessKnownAsync();
        if (state.Committed.Record is { IsFinal: true } stored)
        {
            return stored;
        }

        var row = (await rows.FindAsync(RequestId, CancellationToken.None))?.ToRecord();
        return row is { IsFinal: true } || state.Committed.Record is null ? row : state.Committed.Record;
    }

    public async Task<FirmbankingRecord> Execute(FirmbankingCommand command)
    {
        await state.LoadUnlessKnownAsync();
        if (state.Committed.Record is { } existing)
        {
            return existing.Command == command
                ? existing.IsFinal ? existing : await DriveAsync(existing, firstSend: false, SaveAsync)
                : throw new FirmbankingRequestReusedException(RequestId);
        }

        if (Refusal(command) is { } refused)
        {
            return refused;
        }

        // Requested and Sent are written as one step, just before the first send: after a crash the grain then
        // knows the command may have reached the bank, and asks before anything else.
        return await DriveAsync(await SaveAsync(FirmbankingRecord.Sent(RequestId, command, time.GetUtcNow())), firstSend: true, SaveAsync);
    }

    /// <summary>
    /// The caller wrote that the command may be sent, and writes its answer, so the grain keeps no state: it sends (asking
    /// the bank first when the caller resumes the command), and returns what the bank said.
    /// </summary>
    public async Task<FirmbankingRecord> ExecuteRecorded(FirmbankingCommand command, bool resumed)
    {
        if (answeredForCaller is { } answered)
        {
            return answered.Command == command ? answered : throw new FirmbankingRequestReusedException(RequestId);
        }

        var record = Refusal(command) ?? await DriveAsync(FirmbankingRecord.Sent(RequestId, command, time.GetUtcNow()), firstSend: !resumed, Task.FromResult);
        answeredForCaller = record.IsFinal ? record : null;
        return record;
    }

    public async Task<FirmbankingRecord?> ResolveUnfinished()
    {
        await state.LoadUnlessKnownAsync();
        return state.Committed.Record is { IsFinal: false } unfinished ? await DriveAsync(unfinished, firstSend: false, SaveAsync) : state.Committed.Record;
    }

    /// <summary>
    /// A command no bank could carry out (MyPay's own account on both sides, say) is a business outcome, not an exception:
    /// Failed with its reason, as a bank's refusal is, so the caller gives back what it held. Nothing is sent or written
    /// (a caller that writes the command ends its row with it), and a repeat gets the same answer. Null for a command the
    /// bank may carry out.
    /// </summary>
    private FirmbankingRecord? Refusal(FirmbankingCommand command)
    {
        if (command.AmountWon > 0 && command.From != command.To)
        {
            return null;
        }

        var at = time.GetUtcNow();
        var reason = $"never sent to the bank: a bank command moves a positive amount between two accounts; got {command.AmountWon} won from {command.From} to {command.To}.";
        return new FirmbankingRecord(RequestId, command, FirmbankingStatus.Failed, reason, 0, at, at, [new(at, "requested"), new(at, $"failed: {reason}")]);
    }

    /// <summary>Sends the command (or asks what became of it), rounds at most, recording each step with <paramref name="record"/>.</summary>
    private async Task<FirmbankingRecord> DriveAsync(FirmbankingRecord sent, bool firstSend, Func<FirmbankingRecord, Task<FirmbankingRecord>> record)
    {
        var current = sent;
        var transfer = new BankTransfer(RequestId, current.Command.From, current.Command.To, current.Command.AmountWon);
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
                    current = await record(current.Step(FirmbankingStatus.Sent, "the bank has no record of it: sent again under the same id", time.GetUtcNow()));
                    MoneyMetrics.BankAnswered(current);
                    outcome = await bank.TransferAsync(transfer, CancellationToken.None);
                }
            }

            current = await record(outcome.Status switch
            {
                TransferStatus.Succeeded => current.Answered(FirmbankingStatus.Succeeded, null, outcome.FeeWon, time.GetUtcNow()),
                TransferStatus.Failed => current.Answered(FirmbankingStatus.Failed, outcome.Reason ?? "refused by the bank", 0, time.GetUtcNow()),
                _ => current.Step(FirmbankingStatus.Unknown, $"no answer: {outcome.Reason}", time.GetUtcNow()),
            });
            MoneyMetrics.BankAnswered(current);
            if (current.IsFinal)
            {
                break;
            }
        }

        return current;
    }

    /// <summary>Writes the record, with its index row (the member's list of requests, and whether an answer is awaited) in the same write.</summary>
    private Task<FirmbankingRecord> SaveAsync(FirmbankingRecord record) => state.Run(current =>
    {
        current.Record = record;
        current.Records.Append(FirmbankingIndexRow.Of(record));
        return record;
    }, reapply: false);
}

/// <summary>A request id was reused for a different command. Request ids identify one command for ever.</summary>
[GenerateSerializer]
public sealed class FirmbankingRequestReusedException(string requestId)
    : Exception($"Firmbanking request id '{requestId}' was already used for a different command.");
