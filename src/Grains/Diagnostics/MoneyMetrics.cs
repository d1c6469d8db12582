using System.Diagnostics.Metrics;
using MyPay.Grains.Banking;

namespace MyPay.Grains.Diagnostics;

/// <summary>
/// MyPay's money as metrics, on the meter <c>MyPay.Money</c> (scraped by operators at <c>/metrics</c>): the won moved and
/// the operations that moved them, by kind, counted from committed events once each; and the bank's answers to
/// firm-banking commands, by purpose and outcome. Metrics watch the money; the ledger is what accounts for it.
/// </summary>
public static class MoneyMetrics
{
    public const string MeterName = "MyPay.Money";

    private static readonly Meter Meter = new(MeterName);

    private static readonly Counter<long> MovedWon = Meter.CreateCounter<long>(
        "mypay.money.moved", "{won}", "Won moved by committed payments, refunds and recharges, by kind.");

    private static readonly Counter<long> Operations = Meter.CreateCounter<long>(
        "mypay.money.operations", "{operation}", "Committed payments, refunds and recharges, by kind.");

    private static readonly Counter<long> BankCommands = Meter.CreateCounter<long>(
        "mypay.bank.commands", "{answer}", "Answers to firm-banking commands, by purpose and outcome (succeeded, failed, or unknown: no answer yet).");

    /// <summary>Counts one committed operation of <paramref name="kind"/> that moved <paramref name="amountWon"/>.</summary>
    public static void Moved(string kind, long amountWon)
    {
        var tag = new KeyValuePair<string, object?>("kind", kind);
        MovedWon.Add(amountWon, tag);
        Operations.Add(1, tag);
    }

    /// <summary>Counts a bank command's answer, as its record was written.</summary>
    public static void BankAnswered(FirmbankingRecord record) =>
        BankCommands.Add(
            1,
            new KeyValuePair<string, object?>("purpose", record.Command.Purpose),
            new KeyValuePair<string, object?>("outcome", record.Status.ToString().ToLowerInvariant()));
}
