using MyPay.Silo.Grains;

namespace MyPay.Grains.Money;

/// <summary>A member's "my money": one grain per member, keyed by member id.</summary>
public interface IWalletGrain
{
    /// <summary>The balance in whole won. Read-only: runs beside nothing that changes it.</summary>
    Task<long> GetBalance();

    /// <summary>
    /// Adds money to the wallet, once per operation key. Until the bank arrives this credits directly.
    /// A repeat of the same key and request returns the first outcome.
    /// </summary>
    Task<RechargeOutcome> Recharge(long amountWon, OperationKey operation);
}

/// <summary>What a recharge did. Rejections are values, not exceptions: they are a member's everyday outcome.</summary>
public sealed record RechargeOutcome(RechargeStatus Status, long AmountWon, long BalanceWon);

public enum RechargeStatus
{
    Recharged,
    NotAPositiveAmount,
    NotAMultipleOfTheUnit,
    AboveTheRechargeCap,
    AboveTheBalanceCap,
}
