using MyPay.Grains.Banking;
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
    /// in the same write, which also finishes the recharge's row and stores the bank's answer in its bank command's. Once
    /// per recharge: a repeat returns the first balance.
    /// </summary>
    Task<long> CompleteRecharge(RechargeAnswer answer);

    /// <summary>
    /// Drops a reservation the bank refused, and in the same write finishes the recharge's row as failed and stores the
    /// bank's answer in its bank command's. Harmless to repeat.
    /// </summary>
    Task ReleaseRecharge(RechargeAnswer answer);

    /// <summary>Pays a merchant from the wallet, once per operation key; a repeat returns the first outcome.</summary>
    Task<PaymentOutcome> Pay(PaymentOrder order, OperationKey operation);

    /// <summary>
    /// Debits the wallet and credits another member's in one journal entry, once per operation key: the
    /// client's Idempotency-Key, which a wallet honours once across recharges, payments and remittances.
    /// </summary>
    Task<RemittanceDebit> SendToMember(string remittanceId, string recipientId, long amountWon, OperationKey operation, DateTimeOffset at);

    /// <summary>
    /// Makes room under the balance cap for a member's remittance, before its sender is debited; refused when the wallet
    /// cannot take it. Once per remittance: a repeat returns the first answer.
    /// </summary>
    Task<IncomingCredit> ReserveIncoming(string remittanceId, long amountWon);

    /// <summary>Gives back the room a remittance reserved that will not come (its sender could not pay). Harmless to repeat.</summary>
    Task ReleaseIncoming(string remittanceId);

    /// <summary>
    /// The first outcome of a payment under <paramref name="operation"/>, or null when the key was never used for one:
    /// a retried request is answered from it before anything is checked again. Throws
    /// <see cref="Silo.Grains.OperationKeyReusedException"/> when the key was used for another request.
    /// </summary>
    Task<PaymentOutcome?> FindPayment(OperationKey operation);

    /// <summary>The first reservation of a recharge under <paramref name="operation"/>, or null; as <see cref="FindPayment"/>.</summary>
    Task<RechargeOutcome?> FindRecharge(OperationKey operation);

    /// <summary>Counts money another member sent (already in the ledger) into the room it reserved; once per remittance. Returns the balance.</summary>
    Task<long> ReceiveRemittance(string remittanceId, long amountWon, DateTimeOffset at);

    /// <summary>Holds the amount and fee of a bank remittance, once per operation key (the client's Idempotency-Key).</summary>
    Task<RemittanceDebit> HoldForRemittance(string remittanceId, long totalWon, OperationKey operation, DateTimeOffset at);

    /// <summary>
    /// Credits a payment refund, reversing the merchant's net and the commission in one entry, or refuses it when the
    /// wallet has no room for it under the cap; once per refund (a repeat returns the first answer).
    /// </summary>
    Task<RefundCredit> CreditRefund(PaymentRecord payment, string refundId, long amountWon, long commissionWon, DateTimeOffset at);

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

/// <summary>
/// The bank's final answer to a reserved recharge: the recharge as reserved, and its bank command's record as the bank
/// ended it (<see cref="BankCommandDriver.ExecuteRecordedAsync"/>), with the fee it charged, or why it refused.
/// </summary>
[GenerateSerializer]
public sealed record RechargeAnswer(RechargeRecord Recharge, FirmbankingRecord Transfer)
{
    /// <summary>When the bank finished the transfer.</summary>
    public DateTimeOffset CompletedAt => Transfer.CompletedAt ?? throw new InvalidOperationException($"Bank command {Transfer.RequestId} has no answer yet.");

    /// <summary>The recharge as the bank's refusal ends it.</summary>
    public RechargeRecord Failed => Recharge with { Status = RechargeProgress.Failed, FailureReason = Transfer.FailureReason, CompletedAt = CompletedAt };
}

/// <summary>Whether a wallet took a credit's room under the cap, and how much room it had before.</summary>
[GenerateSerializer]
public sealed record IncomingCredit(bool Accepted, long RoomWon);

/// <summary>Whether a wallet took a refund; its balance after, and the room it had under the cap before.</summary>
[GenerateSerializer]
public sealed record RefundCredit(bool Credited, long BalanceWon, long RoomWon);
