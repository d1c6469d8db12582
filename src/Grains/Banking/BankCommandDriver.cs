using Microsoft.Extensions.Options;
using MyPay.Grains.Diagnostics;

namespace MyPay.Grains.Banking;

/// <summary>
/// Carries one bank command to the bank's answer: sends it, or, when it may have reached the bank before, asks the bank
/// what became of it first and re-sends under the same request id only when the bank never had it; rounds at most
/// (<see cref="FirmbankingOptions.RoundsMax"/>), each step recorded by the caller's function before the next. The bank
/// applies a request id at most once, so money never moves twice, whatever fails or runs twice. It never fails a command on
/// uncertainty: only the bank's own answer does. Keeps nothing: the firmbanking grain drives its commands through it and
/// writes each step; a recharge's command is driven by its <see cref="Money.Recharger"/>, whose wallet writes the steps.
/// </summary>
public sealed class BankCommandDriver(IBankGateway bank, TimeProvider time, IOptions<FirmbankingOptions> options)
{
    private readonly FirmbankingOptions options = options.Value;

    /// <summary>
    /// A command no bank could carry out (MyPay's own account on both sides, say) is a business outcome, not an exception:
    /// Failed with its reason, as a bank's refusal is, so the caller gives back what it held. Nothing is sent (a caller that
    /// writes the command ends its row with it), and a repeat gets the same answer. Null for a command the bank may carry out.
    /// </summary>
    public FirmbankingRecord? Refusal(string requestId, FirmbankingCommand command)
    {
        if (command.AmountWon > 0 && command.From != command.To)
        {
            return null;
        }

        var at = time.GetUtcNow();
        var reason = $"never sent to the bank: a bank command moves a positive amount between two accounts; got {command.AmountWon} won from {command.From} to {command.To}.";
        return new FirmbankingRecord(requestId, command, FirmbankingStatus.Failed, reason, 0, at, at, [new(at, "requested"), new(at, $"failed: {reason}")]);
    }

    /// <summary>
    /// For a caller that writes the command's steps itself (a recharge's wallet): it wrote, in a write of its own, that the
    /// command may be sent (<see cref="FirmbankingIndexRow.Sent"/>), and writes the answer this returns in its next write
    /// (<see cref="FirmbankingIndexRow.Of"/>: the row then holds the whole record), driving it again, <paramref name="resumed"/>,
    /// while no final answer is written. Sends, or for a resumed command asks the bank first. Two drivers at once (a request
    /// and its wallet's reminder) are safe: only the first send is blind, and the bank answers a repeat with its first outcome.
    /// </summary>
    public Task<FirmbankingRecord> ExecuteRecordedAsync(string requestId, FirmbankingCommand command, bool resumed) =>
        Refusal(requestId, command) is { } refused
            ? Task.FromResult(refused)
            : DriveAsync(FirmbankingRecord.Sent(requestId, command, time.GetUtcNow()), firstSend: !resumed, Task.FromResult);

    /// <summary>Sends the command (or asks what became of it), rounds at most, recording each step with <paramref name="record"/>.</summary>
    public async Task<FirmbankingRecord> DriveAsync(FirmbankingRecord sent, bool firstSend, Func<FirmbankingRecord, Task<FirmbankingRecord>> record)
    {
        var current = sent;
        var transfer = new BankTransfer(sent.RequestId, current.Command.From, current.Command.To, current.Command.AmountWon);
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
                outcome = await bank.GetTransferAsync(sent.RequestId, CancellationToken.None);
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
}
