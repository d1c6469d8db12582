using Microsoft.Extensions.Options;
using MyPay.Api.Auth;
using MyPay.Grains.Banking;
using MyPay.Grains.Ledger;

namespace MyPay.Api.Ledger;

public static class LedgerEndpoints
{
    public static WebApplication MapLedger(this WebApplication app)
    {
        app.MapGet("/v1/ledger/check", CheckAsync).RequireAuthorization(Roles.Operator);
        return app;
    }

    /// <summary>
    /// The ledger's self-check (operators): it sums to zero, every entry balances, every wallet agrees with
    /// its postings, and <c>corporate_cash</c> agrees with the bank's statement of the corporate account,
    /// which is only expected once no recharge, remittance or settlement is in flight. Every difference is listed.
    /// </summary>
    private static async Task<Ok<LedgerCheckResponse>> CheckAsync(
        LedgerQueries ledger, IBankGateway bank, IOptions<FirmbankingOptions> firmbanking, CancellationToken cancellationToken)
    {
        var check = await ledger.CheckAsync(cancellationToken);
        var statement = await bank.LookUpAccountAsync(firmbanking.Value.CorporateAccount, cancellationToken);
        var bankBalanceWon = statement.Status == AccountLookupStatus.Open ? statement.BalanceWon : null;
        bool? corporateMatchesBank = check.RechargesInFlight > 0 || check.RemittancesInFlight > 0 || check.SettlementsInFlight > 0 || bankBalanceWon is null ? null : bankBalanceWon == check.CorporateCashWon;
        var differences = new List<string>();
        if (check.TotalWon != 0)
        {
            differences.Add($"The ledger sums to {check.TotalWon} won, not 0.");
        }

        differences.AddRange(check.UnbalancedEntries.Select(entry => $"Entry {entry} does not sum to zero."));
        differences.AddRange(check.WalletMismatches.Select(wallet =>
            $"Wallet {wallet.MemberId}: postings say {wallet.Posted} won, wallet_balance {wallet.Tabled} won, the wallet grain {wallet.Stated} won."));
        if (corporateMatchesBank == false)
        {
            differences.Add($"corporate_cash is {check.CorporateCashWon} won; the bank's corporate account holds {bankBalanceWon} won.");
        }

        return TypedResults.Ok(new LedgerCheckResponse(
            differences.Count == 0,
            check.TotalWon,
            check.Entries,
            check.Wallets,
            check.CorporateCashWon,
            bankBalanceWon,
            check.RechargesInFlight,
            check.RemittancesInFlight,
            check.SettlementsInFlight,
            corporateMatchesBank,
            differences));
    }

    /// <summary>
    /// <c>corporateMatchesBank</c> is null while recharges, remittances or settlements are in flight or the bank cannot be asked: the two
    /// may differ by money in transit, which is not a discrepancy.
    /// </summary>
    public sealed record LedgerCheckResponse(
        bool Consistent,
        long Total,
        long Entries,
        long Wallets,
        long CorporateCash,
        long? BankCorporateBalance,
        long RechargesInFlight,
        long RemittancesInFlight,
        long SettlementsInFlight,
        bool? CorporateMatchesBank,
        IReadOnlyList<string> Differences);
}
