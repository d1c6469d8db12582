using Microsoft.Extensions.Options;
using MyPay.Api.Auth;
using MyPay.Api.Hosting;
using MyPay.Api.OpenApi;
using MyPay.Grains.Banking;
using MyPay.Grains.Ledger;

namespace MyPay.Api.Ledger;

public static class LedgerEndpoints
{
    public static WebApplication MapLedger(this WebApplication app)
    {
        app.MapGet("/v1/ledger/check", CheckAsync).RequireAuthorization(Roles.Operator)
            .WithName("CheckLedger").WithTags(ApiTags.Ledger).WithSummary("Check the ledger: it sums to zero, wallets equal their postings, the bank agrees");
        app.MapGet("/v1/reconciliation", ReconcileAsync).RequireAuthorization(Roles.Operator)
            .WithName("Reconcile").WithTags(ApiTags.Ledger).WithSummary("Reconcile corporate_cash against the bank's statement, line by line")
            .ProducesProblemFor(StatusCodes.Status503ServiceUnavailable, "`bank-unavailable`: the bank did not give its statement.");
        return app;
    }

    /// <summary>
    /// The ledger's self-check (operators): it sums to zero, every entry balances, every wallet agrees with
    /// its postings, and <c>corporate_cash</c> agrees with the bank's statement of the corporate account,
    /// which is only expected once no recharge, remittance or settlement is in flight. Every difference is listed.
    /// </summary>
    private static async Task<Ok<LedgerCheckResponse>> CheckAsync(
        LedgerQueries ledger, IBankGateway bank, IOptions<FirmbankingOptions> firmbanking, CancellationToken cancellationToken) =>
        TypedResults.Ok(await LedgerCheckResponse.ReadAsync(ledger, bank, firmbanking.Value, cancellationToken));

    /// <summary>
    /// Reconciliation (대사, operators): the ledger's <c>corporate_cash</c> against the bank's statement of the corporate
    /// account, line by line by request id; lists the lines that differ or are missing on one side, and the bank
    /// commands still awaiting an answer. 503 when the bank cannot be asked for its statement.
    /// </summary>
    private static async Task<Results<Ok<ReconciliationResponse>, ProblemHttpResult>> ReconcileAsync(Reconciler reconciler, CancellationToken cancellationToken) =>
        await reconciler.ReconcileAsync(cancellationToken) is { } reconciliation
            ? TypedResults.Ok(ReconciliationResponse.From(reconciliation))
            : Problems.Problem(StatusCodes.Status503ServiceUnavailable, "bank-unavailable", "The bank did not give its statement.", "Reconcile again once the bank answers.");

    /// <summary>
    /// <c>corporateMatchesBank</c> is null while recharges, remittances or settlements are in flight (before or after the bank
    /// is asked, or corporate cash moved meanwhile) or the bank cannot be asked: the two may differ by money in transit,
    /// which is not a discrepancy. <c>walletsTotal</c> is every wallet's balance as the
    /// wallets keep it, <c>walletsTotalInLedger</c> the same from the ledger's postings.
    /// </summary>
    public sealed record LedgerCheckResponse(
        bool Consistent,
        long Total,
        long Entries,
        long Wallets,
        long WalletsTotal,
        long WalletsTotalInLedger,
        long CorporateCash,
        long? BankCorporateBalance,
        long RechargesInFlight,
        long RemittancesInFlight,
        long SettlementsInFlight,
        bool? CorporateMatchesBank,
        IReadOnlyList<string> Differences)
    {
        /// <summary>Checks the ledger and asks the bank for the corporate account's balance; lists every difference.</summary>
        public static async Task<LedgerCheckResponse> ReadAsync(
            LedgerQueries ledger, IBankGateway bank, FirmbankingOptions firmbanking, CancellationToken cancellationToken)
        {
            var check = await ledger.CheckAsync(cancellationToken);
            var statement = await bank.LookUpAccountAsync(firmbanking.CorporateAccount, cancellationToken);
            var bankBalanceWon = statement.Status == AccountLookupStatus.Open ? statement.BalanceWon : null;
            var afterBank = await ledger.CorporateCashAsync(cancellationToken);
            var nothingMoved = check.RechargesInFlight + check.RemittancesInFlight + check.SettlementsInFlight == 0
                && afterBank.InFlight == 0 && afterBank.CorporateCashWon == check.CorporateCashWon;
            bool? corporateMatchesBank = !nothingMoved || bankBalanceWon is null ? null : bankBalanceWon == check.CorporateCashWon;
            var differences = new List<string>();
            if (check.TotalWon != 0)
            {
                differences.Add($"The ledger sums to {check.TotalWon} won, not 0.");
            }

            differences.AddRange(check.UnbalancedEntries.Select(entry => $"Entry {entry} does not sum to zero."));
            differences.AddRange(check.WalletMismatches.Select(wallet =>
                $"Wallet {wallet.MemberId}: postings say {wallet.Posted} won, wallet_balance {wallet.Tabled} won."));
            if (corporateMatchesBank == false)
            {
                differences.Add($"corporate_cash is {check.CorporateCashWon} won; the bank's corporate account holds {bankBalanceWon} won.");
            }

            return new LedgerCheckResponse(
                differences.Count == 0,
                check.TotalWon,
                check.Entries,
                check.Wallets,
                check.WalletsTabledWon,
                check.WalletsPostedWon,
                check.CorporateCashWon,
                bankBalanceWon,
                check.RechargesInFlight,
                check.RemittancesInFlight,
                check.SettlementsInFlight,
                corporateMatchesBank,
                differences);
        }
    }

    /// <summary>Amounts in won; a line's null side has no line for its request.</summary>
    public sealed record ReconciliationResponse(
        bool Consistent, long LedgerCorporateCash, long BankBalance, long BankOpening, int Matched, int UnmatchedCount, UnmatchedResponse[] Unmatched, UnresolvedResponse[] Unresolved)
    {
        public static ReconciliationResponse From(Reconciliation reconciliation) => new(
            reconciliation.IsConsistent,
            reconciliation.LedgerNetWon,
            reconciliation.BankBalanceWon,
            reconciliation.BankOpeningWon,
            reconciliation.Matched,
            reconciliation.UnmatchedCount,
            [.. reconciliation.Unmatched.Select(line => new UnmatchedResponse(line.RequestId, line.LedgerAmountWon, line.LedgerFeeWon, line.BankAmountWon, line.BankFeeWon))],
            [.. reconciliation.Unresolved.Select(command => new UnresolvedResponse(command.RequestId, command.MemberId, command.Purpose, command.AmountWon, command.Status, command.RequestedAt))]);
    }

    public sealed record UnmatchedResponse(string RequestId, long? LedgerAmount, long? LedgerFee, long? BankAmount, long? BankFee);

    public sealed record UnresolvedResponse(string RequestId, string MemberId, string Purpose, long Amount, string Status, DateTimeOffset RequestedAt);
}
