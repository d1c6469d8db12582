using MyPay.LoadTest.Scenarios;

namespace MyPay.LoadTest.Preparation;

/// <summary>
/// How much each customer's wallet holds before the run, so that payments neither run it dry nor recharges hit
/// the node's wallet cap too soon. Amounts are whole multiples of the 10,000-won recharge unit.
/// </summary>
public static class Funding
{
    /// <summary>What each customer's bank account opens with: far more than any run moves, so the bank never refuses.</summary>
    public const long BankBalanceWon = 1_000_000_000_000;

    /// <summary>The largest single funding recharge: half the node's default single-recharge cap of 2,000,000 won.</summary>
    public const long RechargeChunkWon = 1_000_000;

    /// <summary>A payer in pay and hot-merchant: about 1,800 average payments before an automatic top-up is needed.</summary>
    private const long PayerWon = 1_000_000;

    /// <summary>A customer in mixed, who also receives recharges: room under the default cap for them.</summary>
    private const long MixedWon = 200_000;

    /// <summary>The one payer of hot-wallet: as much as the cap allows, up to about 90,000 average payments.</summary>
    private const long HotWalletWon = 50_000_000;

    public static long WalletWon(Scenario scenario, long walletCapWon) => scenario switch
    {
        Scenario.Recharge => 0,
        Scenario.Pay or Scenario.HotMerchant => Units(Math.Min(PayerWon, walletCapWon / 2)),
        Scenario.Mixed => Units(Math.Min(MixedWon, walletCapWon / 4)),
        Scenario.HotWallet => Units(Math.Min(HotWalletWon, walletCapWon)),
        _ => throw new ArgumentOutOfRangeException(nameof(scenario), scenario, "Unknown scenario."),
    };

    /// <summary>The recharges that fund <paramref name="amountWon"/>, each at most <see cref="RechargeChunkWon"/>.</summary>
    public static IReadOnlyList<long> Recharges(long amountWon)
    {
        var recharges = new List<long>();
        for (var left = amountWon; left > 0; left -= RechargeChunkWon)
        {
            recharges.Add(Math.Min(left, RechargeChunkWon));
        }

        return recharges;
    }

    /// <summary>Recharges of 10,000 won a wallet funded with <paramref name="fundedWon"/> takes before it reaches the cap.</summary>
    public static long RechargesBeforeCap(long walletCapWon, long fundedWon) => Math.Max(0, (walletCapWon - fundedWon) / Workload.RechargeAmountWon);

    private static long Units(long amountWon) => amountWon / Workload.RechargeAmountWon * Workload.RechargeAmountWon;
}
