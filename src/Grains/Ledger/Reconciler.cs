using MyPay.Grains.Banking;
using Npgsql;

namespace MyPay.Grains.Ledger;

/// <summary>
/// Reconciliation (대사): compares the ledger's <c>corporate_cash</c> with the bank's statement of the corporate
/// account, line by line by the bank request that moved the money, and lists the bank commands still awaiting an
/// answer. The ledger's postings are tied to their request through what caused them: a recharge's row, a remittance's
/// id (its request is <c>remittance:{id}</c>), a settlement's row, and a bank fee's own reference.
/// </summary>
public sealed class Reconciler(NpgsqlDataSource dataSource, IBankGateway bank)
{
    /// <summary>Unmatched lines and unresolved commands listed at most; the counts are always whole.</summary>
    public const int ListMax = 100;

    public async Task<Reconciliation?> ReconcileAsync(CancellationToken cancellationToken)
    {
        // The unresolved commands are read first: a command resolved between the reads then shows as resolved and
        // matched, never as an unmatched line nobody is waiting for.
        var unresolved = await UnresolvedAsync(cancellationToken);
        if (await bank.GetCorporateStatementAsync(cancellationToken) is not { } statement)
        {
            return null;
        }

        var ledger = await LedgerLinesAsync(cancellationToken);
        var atBank = statement.Lines.ToDictionary(line => line.RequestId, line => (line.AmountWon, line.FeeWon), StringComparer.Ordinal);
        var unmatched = new List<UnmatchedLine>();
        var matched = 0;
        foreach (var requestId in atBank.Keys.Union(ledger.Keys))
        {
            var bankSide = atBank.TryGetValue(requestId, out var b) ? b : ((long, long)?)null;
            var ledgerSide = ledger.TryGetValue(requestId, out var l) ? l : ((long, long)?)null;
            if (bankSide == ledgerSide)
            {
                matched++;
            }
            else
            {
                unmatched.Add(new UnmatchedLine(requestId, ledgerSide?.Item1, ledgerSide?.Item2, bankSide?.Item1, bankSide?.Item2));
            }
        }

        var statementNetWon = statement.Lines.Sum(line => line.AmountWon - line.FeeWon);
        var ledgerNetWon = ledger.Values.Sum(line => line.AmountWon - line.FeeWon);
        return new Reconciliation(
            ledgerNetWon, statement.BalanceWon, statement.BalanceWon - statementNetWon, matched, unmatched.Count, [.. unmatched.Take(ListMax)], unresolved);
    }

    /// <summary>What the ledger moved in <c>corporate_cash</c> per bank request: the amount, and the bank's fee (as a positive cost).</summary>
    private async Task<Dictionary<string, (long AmountWon, long FeeWon)>> LedgerLinesAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            """
            SELECT coalesce(request_id, 'entry ' || entry_id),
                   coalesce(sum(amount) FILTER (WHERE kind <> 'bank-fee'), 0),
                   coalesce(-sum(amount) FILTER (WHERE kind = 'bank-fee'), 0)
            FROM (
                SELECT e.entry_id, e.kind, p.amount,
                       CASE e.kind
                           WHEN 'recharge' THEN (SELECT r.firmbanking_request_id FROM recharge r WHERE r.recharge_id = e.reference)
                           WHEN 'remittance-post' THEN 'remittance:' || e.reference
                           WHEN 'settlement' THEN (SELECT s.firmbanking_request_id FROM settlement s WHERE s.settlement_id = e.reference)
                           WHEN 'bank-fee' THEN e.reference
                       END AS request_id
                FROM ledger_posting p
                JOIN ledger_entry e ON e.entry_id = p.entry_id
                WHERE p.account = 'corporate_cash'
            ) corporate
            GROUP BY 1
            """);
        var lines = new Dictionary<string, (long, long)>(StringComparer.Ordinal);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            lines.Add(reader.GetString(0), (reader.GetInt64(1), reader.GetInt64(2)));
        }

        return lines;
    }

    private async Task<IReadOnlyList<UnresolvedCommand>> UnresolvedAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            $"""
            SELECT request_id, member_id, purpose, amount, status, created_at
            FROM firmbanking_request
            WHERE {FirmbankingQueries.AwaitingTheBank}
            ORDER BY created_at
            LIMIT {ListMax}
            """);
        var commands = new List<UnresolvedCommand>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            commands.Add(new UnresolvedCommand(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetInt64(3), reader.GetString(4), reader.GetFieldValue<DateTimeOffset>(5)));
        }

        return commands;
    }
}

/// <summary>
/// The ledger's net movement of <c>corporate_cash</c>, the bank's balance and what the account held before its first
/// statement line, how many request lines agree, and those that do not (either side may be missing), with the bank
/// commands still unresolved. Consistent when every line agrees and nothing is unresolved.
/// </summary>
public sealed record Reconciliation(
    long LedgerNetWon, long BankBalanceWon, long BankOpeningWon, int Matched, int UnmatchedCount, IReadOnlyList<UnmatchedLine> Unmatched, IReadOnlyList<UnresolvedCommand> Unresolved)
{
    public bool IsConsistent => UnmatchedCount == 0 && Unresolved.Count == 0;
}

/// <summary>A request whose movement differs between the ledger and the bank; a null side has no line for it.</summary>
public sealed record UnmatchedLine(string RequestId, long? LedgerAmountWon, long? LedgerFeeWon, long? BankAmountWon, long? BankFeeWon);

public sealed record UnresolvedCommand(string RequestId, string MemberId, string Purpose, long AmountWon, string Status, DateTimeOffset RequestedAt);
