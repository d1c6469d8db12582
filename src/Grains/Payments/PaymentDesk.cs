using System.Security.Cryptography;
using MyPay.Grains.Members;
using MyPay.Grains.Money;
using MyPay.Silo.Grains;

namespace MyPay.Grains.Payments;

/// <summary>
/// Takes a payment from a payer to a merchant: checks both parties, applies the commission rate in force,
/// tops the wallet up from the payer's bank account when it is short, and has the payer's wallet pay.
/// Many payers paying one merchant never meet in a grain: the merchant's side is append-only postings.
/// A retried request (the same key and body) is answered as the first was: from the wallet's record of it, before
/// any check that might now come out otherwise.
/// </summary>
public sealed class PaymentDesk(GrainReferences grains, Recharger recharger, TimeProvider time)
{
    public async Task<PaymentResult> PayAsync(string payerId, string merchantId, long amountWon, string? orderId, OperationKey operation, TimeSpan topUpWait)
    {
        if (payerId == merchantId)
        {
            return new PaymentResult(PaymentRefusal.PayingSelf, null, null);
        }

        // Both parties are read at once: two independent grains, one round of waiting on the hot path.
        var payer = grains.Get<IMemberGrain>(payerId);
        var payerRead = payer.GetProfile();
        var merchantRead = grains.Get<IMemberGrain>(merchantId).GetProfile();
        var payerProfile = await payerRead;
        var merchant = await merchantRead;
        var refusal = (payerProfile, merchant) switch
        {
            ({ Status: not MemberStatus.Active } or null, _) => PaymentRefusal.PayerNotActive,
            (_, null) => PaymentRefusal.UnknownMerchant,
            (_, { Type: not MemberType.Merchant }) => PaymentRefusal.NotAMerchant,
            (_, { Status: not MemberStatus.Active }) => PaymentRefusal.MerchantNotActive,
            _ => (PaymentRefusal?)null,
        };
        var wallet = grains.Get<IWalletGrain>(payerId);
        if (refusal is not null)
        {
            // Refusals are checked against today's members; only a request never answered before is refused for them.
            return await wallet.FindPayment(operation) is { } first
                ? await ReplayAsync(payerId, first, order: null, operation, topUpWait) ?? new PaymentResult(refusal, null, null)
                : new PaymentResult(refusal, null, null);
        }

        var rateBps = merchant!.CommissionBps ?? await grains.Get<ICommissionGrain>(ICommissionGrain.DefaultKey).GetDefaultBps();
        var order = new PaymentOrder(NewPaymentId(), merchantId, amountWon, rateBps, orderId, operation.Id, time.GetUtcNow());

        // The wallet is asked first, with no balance read before: on a hot wallet a read would sit between
        // commands in its mailbox and split their batches. Only a short wallet costs a second round.
        var outcome = await wallet.Pay(order, operation);
        if (outcome.Status != PaymentStatus.InsufficientFunds)
        {
            return new PaymentResult(null, outcome, null);
        }

        if (outcome.PaymentId != order.PaymentId)
        {
            // The first request's answer (its payment id is not this attempt's): carried on as that request left it.
            return (await ReplayAsync(payerId, outcome, order, operation, topUpWait))!;
        }

        if (await payer.GetBankAccounts() is [])
        {
            return new PaymentResult(null, outcome, null);
        }

        // Auto top-up: recharge the shortfall, then pay, each step under a key derived from the payment's own.
        var topUp = await recharger.TopUpAsync(payerId, amountWon, outcome.BalanceWon, operation, topUpWait);
        return await PayAfterTopUpAsync(wallet, order, topUp, operation);
    }

    /// <summary>
    /// A request answered before, carried on from its first outcome: paid, or short with no top-up made, is the
    /// answer again; a top-up it started is followed to the payment after it. With no <paramref name="order"/> (the
    /// parties no longer pass their checks) a payment the first request never made is not made now: null.
    /// </summary>
    private async Task<PaymentResult?> ReplayAsync(string payerId, PaymentOutcome first, PaymentOrder? order, OperationKey operation, TimeSpan topUpWait)
    {
        if (first.Status != PaymentStatus.InsufficientFunds || await recharger.ResumeTopUpAsync(payerId, operation, topUpWait) is not { } topUp)
        {
            return new PaymentResult(null, first, null);
        }

        var wallet = grains.Get<IWalletGrain>(payerId);
        if (order is not null)
        {
            return await PayAfterTopUpAsync(wallet, order, topUp, operation);
        }

        return topUp.Status != RechargeAttemptStatus.Succeeded
            ? new PaymentResult(PaymentRefusal.TopUpFailed, null, topUp)
            : await wallet.FindPayment(Recharger.AfterTopUpKey(operation)) is { } after ? new PaymentResult(null, after, topUp) : null;
    }

    /// <summary>Pays once the top-up has landed, under the key derived for that step (a repeat returns its first outcome).</summary>
    private static async Task<PaymentResult> PayAfterTopUpAsync(IWalletGrain wallet, PaymentOrder order, RechargeAttempt topUp, OperationKey operation)
    {
        if (topUp.Status != RechargeAttemptStatus.Succeeded)
        {
            return new PaymentResult(PaymentRefusal.TopUpFailed, null, topUp);
        }

        var afterTopUp = await wallet.Pay(order with { PaymentId = NewPaymentId() }, Recharger.AfterTopUpKey(operation));
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
    /// <summary>The wallet was short and its top-up failed, or is still with the bank (see the attempt's status).</summary>
    TopUpFailed,
}

/// <summary>Either a refusal before the wallet was asked, or the wallet's outcome; with the auto top-up attempt, if one was made.</summary>
public sealed record PaymentResult(PaymentRefusal? Refusal, PaymentOutcome? Outcome, RechargeAttempt? TopUp);
