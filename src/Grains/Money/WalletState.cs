namespace MyPay.Grains.Money;

/// <summary>What a wallet keeps between activations.</summary>
public sealed class WalletState
{
    public long BalanceWon { get; set; }
}
