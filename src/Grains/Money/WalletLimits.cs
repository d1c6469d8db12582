using System.ComponentModel.DataAnnotations;

namespace MyPay.Grains.Money;

/// <summary>Limits on "my money", in whole won. Bound from the <c>Wallet</c> configuration section.</summary>
public sealed class WalletLimits
{
    public const string SectionName = "Wallet";

    /// <summary>Most a wallet may hold. Default 2,000,000 won, the Korean limit for prepaid electronic money.</summary>
    [Range(1, long.MaxValue)]
    public long BalanceCapWon { get; set; } = 2_000_000;

    /// <summary>Most one recharge may add. Default 2,000,000 won: one top-up may fill an empty wallet.</summary>
    [Range(1, long.MaxValue)]
    public long RechargeCapWon { get; set; } = 2_000_000;

    /// <summary>Recharges are whole multiples of this. Default 10,000 won, as Korean wallets top up.</summary>
    [Range(1, long.MaxValue)]
    public long RechargeUnitWon { get; set; } = 10_000;

    /// <summary>
    /// The recharge rules that need no balance: a positive whole multiple of the unit, within the single-recharge
    /// cap. Null when the amount passes. The wallet checks the balance cap on top; the charge endpoint checks these
    /// first, so a malformed request never reaches the wallet or records its key.
    /// </summary>
    public RechargeStatus? RejectRecharge(long amountWon) => amountWon switch
    {
        <= 0 => RechargeStatus.NotAPositiveAmount,
        _ when amountWon % RechargeUnitWon != 0 => RechargeStatus.NotAMultipleOfTheUnit,
        _ when amountWon > RechargeCapWon => RechargeStatus.AboveTheRechargeCap,
        _ => null,
    };
}
