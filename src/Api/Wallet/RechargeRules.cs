using MyPay.Api.Hosting;
using MyPay.Grains.Money;

namespace MyPay.Api.Wallet;

/// <summary>How recharge rejections read to a client.</summary>
public static class RechargeRules
{
    public static ProblemHttpResult Problem(RechargeStatus status, long amountWon, WalletLimits limits, long? balanceWon = null) => status switch
    {
        RechargeStatus.NotAPositiveAmount => Problems.Problem(
            StatusCodes.Status400BadRequest, "invalid-amount", "The amount must be positive.", $"Amount {amountWon} won is not a positive number of won."),
        RechargeStatus.NotAMultipleOfTheUnit => Problems.Problem(
            StatusCodes.Status400BadRequest, "invalid-amount", "The amount must be a multiple of the recharge unit.",
            $"Amount {amountWon} won is not a multiple of {limits.RechargeUnitWon} won."),
        RechargeStatus.AboveTheRechargeCap => Problems.Problem(
            StatusCodes.Status422UnprocessableEntity, "recharge-cap-exceeded", "The amount is above the single-recharge cap.",
            $"Amount {amountWon} won is above the cap of {limits.RechargeCapWon} won per recharge."),
        RechargeStatus.AboveTheBalanceCap => Problems.Problem(
            StatusCodes.Status422UnprocessableEntity, "balance-cap-exceeded", "The wallet would exceed its balance cap.",
            $"{(balanceWon is { } heldWon ? $"Balance {heldWon} won" : "The balance")}, with recharges still in flight, plus {amountWon} won is above the wallet cap of {limits.BalanceCapWon} won."),
        _ => throw new ArgumentOutOfRangeException(nameof(status), status, "Not a rejection."),
    };
}
