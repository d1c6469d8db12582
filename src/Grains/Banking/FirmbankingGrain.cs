using MyPay.Silo.Batching;
using Orleans;

namespace MyPay.Grains.Banking;

/// <summary>
/// One bank command and everything that happened to it. Every state change is written before the
/// next step, so after a crash the grain knows whether the command may have reached the bank (Sent
/// or Unknown) and asks the bank before doing anything else (<see cref="BankCommandDriver"/>). A recharge's command
/// is its wallet's to store, and its Recharger drives it without this grain: for one the grain only reads the row.
/// The fee recorded is the one the bank says it charged the corporate account, so the ledger books what the bank took.
/// </summary>
public sealed class FirmbankingGrain : Grain, IFirmbankingGrain
{
    /// <summary>The stored state's name: the grain type name it had before Orleans, so stored rows carry over.</summary>
    public const string StateName = "firmbanking";

    private readonly CommandBatch<FirmbankingState> state;
    private readonly FirmbankingQueries rows;
    private readonly BankCommandDriver driver;
    private readonly TimeProvider time;

    public FirmbankingGrain(FirmbankingQueries rows, BankCommandDriver driver, TimeProvider time)
    {
        this.state = new CommandBatch<FirmbankingState>(this, StateName);
        this.rows = rows;
        this.driver = driver;
        this.time = time;
    }

    private string RequestId => this.GetPrimaryKeyString();

    /// <summary>
    /// The stored record: the grain's state, or the request's row for a command its caller writes (a recharge's). A final
    /// answer in the row wins over a state still waiting (a command its caller resumed after the grain had written a step).
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
                ? existing.IsFinal ? existing : await driver.DriveAsync(existing, firstSend: false, SaveAsync)
                : throw new FirmbankingRequestReusedException(RequestId);
        }

        // Refused: not sent, and nothing written, so a repeat is refused the same way.
        if (driver.Refusal(RequestId, command) is { } refused)
        {
            return refused;
        }

        // Requested and Sent are written as one step, just before the first send: after a crash the grain then
        // knows the command may have reached the bank, and asks before anything else.
        return await driver.DriveAsync(await SaveAsync(FirmbankingRecord.Sent(RequestId, command, time.GetUtcNow())), firstSend: true, SaveAsync);
    }

    public async Task<FirmbankingRecord?> ResolveUnfinished()
    {
        await state.LoadUnlessKnownAsync();
        return state.Committed.Record is { IsFinal: false } unfinished ? await driver.DriveAsync(unfinished, firstSend: false, SaveAsync) : state.Committed.Record;
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
