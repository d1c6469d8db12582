using MyPay.Grains.Payments;
using MyPay.Grains.Remittance;
using Orleans;
using Orleans.Concurrency;
using OperationKey = MyPay.Silo.Grains.OperationKey;

namespace MyPay.Grains.Money;

/// <summary>A member's "my money": one grain per member, keyed by member id.</summary>
public interface IWalletGrain : IGrainWithStringKey
{
    /// <summary>The balance in whole won. Read-only: runs beside nothing that changes it.</summary>
    [ReadOnly]
    Task<long> GetBalance();

    /// <summary>
    /// Accepts a recharge before the bank moves any money: checks the limits against the balance plus the
    /// recharges still in flight, and holds the amount against the cap. Once per operation key (the request's
    /// Idempotency-Key): a repeat returns the first outcome, with the first recharge as it was reserved. The
    /// write that reserves also stores the recharge's pending row (the reminder that resumes it was armed before).
    /// </summary>
    Task<RechargeOutcome> ReserveRecharge(RechargeRecord recharge, OperationKey operation);

    /// <summary>
    /// Credits a reserved recharge the bank has completed, and books it and the bank's fee in the ledger,
    /// in the same write, which also finishes the recharge's row. Once per recharge:
    /// a repeat returns the first balance.
    /// </summary>
    Task<long> CompleteRecharge(RechargeCompletion completion);

    /// <summary>
    /// Drops a reservation the bank refused, and in the same write finishes the recharge's row as failed.
    /// Harmless to repeat.
    /// </summary>
    Task ReleaseRecharge(RechargeRecord failed);

    /// <summary>Pays a merchant from the wallet, once per operation key; a repeat returns the first outcome.</summary>
    Task<PaymentOutcome> Pay(PaymentOrder order, OperationKey operation);

    /// <summary>
    /// Debits the wallet and credits another member's in one journal entry, once per operation key: the
    /// client's Idempotency-Key, which a wallet honours once across recharges, payments and remittances.
    /// </summary>
    Task<RemittanceDebit> SendToMember(string remittanceId, string recipientId, long amountWon, OperationKey operation, DateTimeOffset at);

    /// <summary>Counts money another member sent (already in the ledger); once per remittance. Returns the balance.</summary>
    Task<long> ReceiveRemittance(string remittanceId, long amountWon, DateTimeOffset at);

    /// <summary>Holds the amount and fee of a bank remittance, once per operation key (the client's Idempotency-Key).</summary>
    Task<RemittanceDebit> HoldForRemittance(string remittanceId, long totalWon, OperationKey operation, DateTimeOffset at);

    /// <summary>Credits a payment refund, reversing the merchant's net and the commission in one entry; once per refund.</summary>
    Task<long> CreditRefund(PaymentRecord payment, string refundId, long amountWon, long commissionWon, DateTimeOffset at);

    /// <summary>Returns a refused bank remittance's hold to the wallet; once per remittance. Returns the balance.</summary>
    Task<long> VoidRemittanceHold(string remittanceId, long totalWon, DateTimeOffset at);
}

/// <summary>What a reservation decided. Rejections are values, not exceptions: they are a member's everyday outcome.</summary>
[GenerateSerializer]
public sealed record RechargeOutcome(RechargeStatus Status, RechargeRecord Recharge, long BalanceWon)
{
    public string RechargeId => Recharge.RechargeId;

    public long AmountWon => Recharge.AmountWon;
}

public enum RechargeStatus
{
    Reserved,
    NotAPositiveAmount,
    NotAMultipleOfTheUnit,
    AboveTheRechargeCap,
    AboveTheBalanceCap,
}

/// <summary>A bank-completed recharge to credit: the recharge as reserved, the fee the bank charged, and when it finished.</summary>
[GenerateSerializer]
public sealed record RechargeCompletion(RechargeRecord Recharge, long FeeWon, DateTimeOffset CompletedAt);
