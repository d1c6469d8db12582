using MyPay.Silo.Grains;

namespace MyPay.Grains.Money;

/// <summary>
/// A member's wallet. Its commands are synchronous functions of the state and their arguments: the
/// silo applies a run of them in one turn, writes the balance once, and may re-apply them to reloaded
/// state after a conflict.
/// </summary>
public sealed class WalletGrain(IPersistentState<WalletState> wallet, WalletLimits limits)
{
    public long GetBalance() => wallet.State.BalanceWon;

    public RechargeOutcome Recharge(long amountWon)
    {
        var balanceWon = wallet.State.BalanceWon;
        var status = amountWon switch
        {
            <= 0 => RechargeStatus.NotAPositiveAmount,
            _ when amountWon % limits.RechargeUnitWon != 0 => RechargeStatus.NotAMultipleOfTheUnit,
            _ when amountWon > limits.RechargeCapWon => RechargeStatus.AboveTheRechargeCap,
            _ when amountWon > limits.BalanceCapWon - balanceWon => RechargeStatus.AboveTheBalanceCap,
            _ => RechargeStatus.Recharged,
        };
        if (status != RechargeStatus.Recharged)
        {
            return new RechargeOutcome(status, amountWon, balanceWon);
        }

        wallet.State.BalanceWon = checked(balanceWon + amountWon);
        AssertInvariants();
        return new RechargeOutcome(status, amountWon, wallet.State.BalanceWon);
    }

    private void AssertInvariants()
    {
        if (wallet.State.BalanceWon < 0 || wallet.State.BalanceWon > limits.BalanceCapWon)
        {
            throw new InvalidOperationException(
                $"Wallet balance {wallet.State.BalanceWon} won is outside 0..{limits.BalanceCapWon} won.");
        }
    }
}

/// <summary>Forwards <see cref="IWalletGrain"/> calls to the wallet's activation as messages.</summary>
internal sealed class WalletGrainReference(GrainReference<WalletGrain> grain) : IWalletGrain
{
    public Task<long> GetBalance() => grain.Read(wallet => wallet.GetBalance());

    public Task<RechargeOutcome> Recharge(long amountWon, OperationKey operation) =>
        grain.Update(wallet => wallet.Recharge(amountWon), operation);
}
