using MyPay.Grains.Members;
using MyPay.Silo.Events;

namespace MyPay.Grains.Events;

/// <summary>
/// MyPay's domain events: what each means and carries. Each is published by the grain whose change it tells of, on
/// that grain's stream (<c>{grain}:{key}</c>), in the write that commits the change; its id is its type and the
/// operation it tells of, so the same operation always names the same event. A commission change's payload is the
/// <see cref="Payments.CommissionChange"/> itself.
/// </summary>
public static class DomainEvents
{
    public const string MemberRegistered = "member.registered";
    public const string MemberChanged = "member.changed";
    public const string RechargeCompleted = "recharge.completed";
    public const string RechargeFailed = "recharge.failed";
    public const string PaymentCompleted = "payment.completed";
    public const string PaymentRefunded = "payment.refunded";
    public const string RemittanceSent = "remittance.sent";
    public const string RemittanceReceived = "remittance.received";
    public const string RemittanceVoided = "remittance.voided";
    public const string SettlementPaid = "settlement.paid";
    public const string CommissionChanged = "commission.changed";

    /// <summary>The stream namespace of members' events: <c>member:{id}</c>.</summary>
    public const string MemberNamespace = "member";

    /// <summary>The stream namespace of wallets' events: <c>wallet:{member id}</c>.</summary>
    public const string WalletNamespace = "wallet";

    /// <summary>The stream namespace of merchants' settlements: <c>settlement:{merchant id}</c>.</summary>
    public const string SettlementNamespace = "settlement";

    public static string MemberStream(string memberId) => $"{MemberNamespace}:{memberId}";

    public static string WalletStream(string memberId) => $"{WalletNamespace}:{memberId}";

    public static string SettlementStream(string merchantId) => $"{SettlementNamespace}:{merchantId}";

    public static string CommissionStream(string key) => $"commission:{key}";

    /// <summary>Publishes <paramref name="type"/> about <paramref name="subject"/> (the operation's id) on <paramref name="streamKey"/>, as event <c>{type}:{subject}</c>.</summary>
    public static OutboxEvent PublishAbout<TPayload>(this IPublishingState state, string streamKey, string type, string subject, TPayload payload, DateTimeOffset at) =>
        state.Publish(streamKey, $"{type}:{subject}", type, payload, at);

    /// <summary>Publishes an event no operation id names (a change of profile or rate), named by its place in the stream: <c>{type}:{stream}:{sequence}</c>.</summary>
    public static OutboxEvent PublishNext<TPayload>(this IPublishingState state, string streamKey, string type, TPayload payload, DateTimeOffset at) =>
        state.PublishAbout(streamKey, type, $"{streamKey}:{state.EventSequence + 1}", payload, at);
}

/// <summary>A member registered (<see cref="DomainEvents.MemberRegistered"/>).</summary>
public sealed record MemberRegisteredEvent(string MemberId, MemberType Type, string Address, DateTimeOffset RegisteredAt);

/// <summary>A member's profile or status changed (<see cref="DomainEvents.MemberChanged"/>): what it is now.</summary>
public sealed record MemberChangedEvent(string MemberId, string Address, MemberStatus Status);

/// <summary>Money arrived from the member's bank account (<see cref="DomainEvents.RechargeCompleted"/>).</summary>
public sealed record RechargeCompletedEvent(string RechargeId, string MemberId, long AmountWon, long BalanceAfterWon);

/// <summary>A recharge the bank refused (<see cref="DomainEvents.RechargeFailed"/>): the wallet did not change.</summary>
public sealed record RechargeFailedEvent(string RechargeId, string MemberId, long AmountWon, string? Reason, long BalanceAfterWon);

/// <summary>A member paid a merchant (<see cref="DomainEvents.PaymentCompleted"/>).</summary>
public sealed record PaymentCompletedEvent(
    string PaymentId, string PayerId, string MerchantId, long AmountWon, long CommissionWon, string? OrderId, long BalanceAfterWon);

/// <summary>A merchant gave back part or all of a payment (<see cref="DomainEvents.PaymentRefunded"/>).</summary>
public sealed record PaymentRefundedEvent(
    string RefundId, string PaymentId, string PayerId, string MerchantId, long AmountWon, long CommissionWon, long BalanceAfterWon);

/// <summary>
/// Money left a wallet for a remittance (<see cref="DomainEvents.RemittanceSent"/>): to another member, or held for a
/// transfer to a bank account (its amount with the fee; voided should the bank refuse it).
/// </summary>
public sealed record RemittanceSentEvent(string RemittanceId, string SenderId, string? RecipientId, long AmountWon, long BalanceAfterWon);

/// <summary>A member's wallet counted money another member sent (<see cref="DomainEvents.RemittanceReceived"/>).</summary>
public sealed record RemittanceReceivedEvent(string RemittanceId, string MemberId, long AmountWon, long BalanceAfterWon);

/// <summary>A bank remittance the bank refused: what it held is back in the wallet (<see cref="DomainEvents.RemittanceVoided"/>).</summary>
public sealed record RemittanceVoidedEvent(string RemittanceId, string MemberId, long AmountWon, long BalanceAfterWon);

/// <summary>A merchant was paid a settlement (<see cref="DomainEvents.SettlementPaid"/>).</summary>
public sealed record SettlementPaidEvent(string SettlementId, string MerchantId, string Period, long NetWon, int Items, long BankFeeWon, DateTimeOffset PaidAt);

