using System.Security.Cryptography;
using MyPay.Grains.Members;
using MyPay.Grains.Money;
using MyPay.Silo.Grains;
using IGrainFactory = Orleans.IGrainFactory;

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

        // Both parties are read at once: two independent grains, one round of waiting on the hot path.
        var payerRead = grains.GetGrain<IMemberGrain>(payerId).GetProfile();
        var merchantRead = grains.GetGrain<IMemberGrain>(merchantId).GetProfile();
        if (await payerRead is not { Status: MemberStatus.Active })
        {
            return new PaymentResult(PaymentRefusal.PayerNotActive, null, null);
        }

        var merchant = await merchantRead;
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
        var rateBps = merchant!.CommissionBps ?? await grains.GetGrain<ICommissionGrain>(ICommissionGrain.DefaultKey).GetDefaultBps();
        var order = new PaymentOrder(NewPaymentId(), merchantId, amountWon, rateBps, orderId, operation.Id, time.GetUtcNow());

        // The wallet is asked first, with no balance read before: on a hot wallet a read would sit between
        // commands in its mailbox and split their batches. Only a short wallet costs a second round.
        var outcome = await wallet.Pay(order, operation);
        if (outcome.Status != PaymentStatus.InsufficientFunds || await grains.GetGrain<IMemberGrain>(payerId).GetBankAccounts() is [])
        {
            return new PaymentResult(null, outcome, null);
        }

        // Auto top-up: recharge the shortfall rounded up to the recharge unit, then pay. Both steps are keyed by
        // the payment's own key (the top-up with a fixed request hash, since a retry may find the wallet
        // differently short), so a retried payment never tops up or pays twice.
        var unitWon = walletLimits.RechargeUnitWon;
        var topUpWon = (amountWon - outcome.BalanceWon + unitWon - 1) / unitWon * unitWon;
        var topUp = await recharger.RechargeAsync(payerId, topUpWon, new OperationKey($"{operation.Id}:auto-top-up", "auto-top-up"), topUpWait);
        if (topUp.Status != RechargeAttemptStatus.Succeeded)
        {
            return new PaymentResult(PaymentRefusal.TopUpFailed, null, topUp);
        }

        var afterTopUp = await wallet.Pay(order with { PaymentId = NewPaymentId() }, new OperationKey($"{operation.Id}:after-top-up", operation.RequestHash));
        return new PaymentResult(null, afterTopUp, topUp);
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
