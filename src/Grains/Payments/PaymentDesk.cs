using System.Security.Cryptography;
using MyPay.Grains.Members;
using MyPay.Grains.Money;
using MyPay.Silo.Grains;

namespace MyPay.Grains.Payments;

/// <summary>
/// Takes a payment from a payer to a merchant: checks both parties, applies the commission rate in force,
/// tops the wallet up from the payer's bank account when it is short, and has the payer's wallet pay.
/// Many payers paying one merchant never meet in a grain: the merchant's side is append-only postings.
/// </summary>
public sealed class PaymentDesk(IGrainFactory grains, Recharger recharger, WalletLimits walletLimits, TimeProvider time)
{
    public async Task<PaymentResult> PayAsync(string payerId, string merchantId, long amountWon, string? orderId, OperationKey operation, TimeSpan topUpWait)
    {
        if (payerId == merchantId)
        {
            return new PaymentResult(PaymentRefusal.PayingSelf, null, null);
        }

        var payerProfile = await grains.GetGrain<IMemberGrain>(payerId).GetProfile();
        if (payerProfile is not { Status: MemberStatus.Active })
        {
            return new PaymentResult(PaymentRefusal.PayerNotActive, null, null);
        }

        var merchant = await grains.GetGrain<IMemberGrain>(merchantId).GetProfile();
        var refusal = merchant switch
        {
            null => PaymentRefusal.UnknownMerchant,
            { Type: not MemberType.Merchant } => PaymentRefusal.NotAMerchant,
            { Status: not MemberStatus.Active } => PaymentRefusal.MerchantNotActive,
            _ => (PaymentRefusal?)null,
        };
        if (refusal is not null)
        {
            return new PaymentResult(refusal, null, null);
        }

        var wallet = grains.GetGrain<IWalletGrain>(payerId);
        var topUp = await TopUpIfShortAsync(wallet, payerId, amountWon, operation, topUpWait);
        if (topUp is { Status: not RechargeAttemptStatus.Succeeded })
        {
            return new PaymentResult(PaymentRefusal.TopUpFailed, null, topUp);
        }

        var rateBps = merchant!.CommissionBps ?? await grains.GetGrain<ICommissionGrain>(ICommissionGrain.DefaultKey).GetDefaultBps();
        var outcome = await wallet.Pay(new PaymentOrder(NewPaymentId(), merchantId, amountWon, rateBps, orderId, operation.Id, time.GetUtcNow()), operation);
        return new PaymentResult(null, outcome, topUp);
    }

    /// <summary>
    /// When the wallet is short and a bank account is linked, recharges the shortfall rounded up to the
    /// recharge unit. Keyed by the payment's own key, so a retried payment never tops up twice.
    /// </summary>
    private async Task<RechargeAttempt?> TopUpIfShortAsync(IWalletGrain wallet, string payerId, long amountWon, OperationKey operation, TimeSpan wait)
    {
        var balanceWon = await wallet.GetBalance();
        if (balanceWon >= amountWon || await grains.GetGrain<IMemberGrain>(payerId).GetBankAccounts() is [])
        {
            return null;
        }

        var unitWon = walletLimits.RechargeUnitWon;
        var topUpWon = (amountWon - balanceWon + unitWon - 1) / unitWon * unitWon;

        // The request hash is fixed: a retry of this payment, finding the wallet differently short, still gets the first top-up back.
        return await recharger.RechargeAsync(payerId, topUpWon, new OperationKey($"{operation.Id}:auto-top-up", "auto-top-up"), wait);
    }

    /// <summary>"pay" and 20 hex digits.</summary>
    private static string NewPaymentId() => "pay" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(10));
}

public enum PaymentRefusal
{
    PayingSelf,
    PayerNotActive,
    UnknownMerchant,
    NotAMerchant,
    MerchantNotActive,
    TopUpFailed,
}

/// <summary>Either a refusal before the wallet was asked, or the wallet's outcome; with the auto top-up attempt, if one was made.</summary>
public sealed record PaymentResult(PaymentRefusal? Refusal, PaymentOutcome? Outcome, RechargeAttempt? TopUp);
