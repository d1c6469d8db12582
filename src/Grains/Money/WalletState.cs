namespace MyPay.Grains.Money;

/// <summary>What a wallet keeps between activations.</summary>
public sealed class WalletState
{
    public long BalanceWon { get; set; }

    /// <summary>
    /// Recharges accepted but not yet settled with the bank, by recharge id, with their amounts. They count
    /// against the balance cap, so concurrent recharges can never together take a wallet over it.
    /// </summary>
    public Dictionary<string, long> PendingRechargesWon { get; set; } = [];
}
