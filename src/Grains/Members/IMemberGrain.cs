using Orleans;
using Orleans.Concurrency;

namespace MyPay.Grains.Members;

/// <summary>A customer or merchant: one grain per member, keyed by member id.</summary>
public interface IMemberGrain : IGrainWithStringKey
{
    /// <summary>Creates the member. False if this id is already registered (ids are random, so only a retry sees that).</summary>
    Task<bool> Register(MemberRegistration registration);

    /// <summary>The profile, or null when no member has this id.</summary>
    [ReadOnly]
    Task<MemberProfile?> GetProfile();

    /// <summary>The stored password hash, for sign-in; null when no member has this id.</summary>
    [ReadOnly]
    Task<string?> GetPasswordHash();

    /// <summary>Applies a profile change whose email (if any) the caller has already claimed. Null when unregistered.</summary>
    Task<MemberProfile?> ChangeProfile(ProfileChange change);

    /// <summary>Suspends or reactivates. Null when unregistered.</summary>
    Task<MemberProfile?> SetStatus(MemberStatus status);

    /// <summary>
    /// Sets a merchant's own commission rate, or with null returns it to the default. A change is kept in the history
    /// (<see cref="Payments.CommissionChange"/>) with who made it and when; the same rate again changes nothing.
    /// Null when not a merchant.
    /// </summary>
    Task<MemberProfile?> SetCommission(long? rateBps, string changedBy, DateTimeOffset changedAt);

    /// <summary>Links a bank account the bank has confirmed. Linking one already linked returns it unchanged.</summary>
    Task<LinkOutcome> LinkBankAccount(LinkedBankAccount account);

    [ReadOnly]
    Task<IReadOnlyList<LinkedBankAccount>> GetBankAccounts();
}

public enum LinkStatus
{
    Linked,
    AlreadyLinked,
    MemberSuspended,
    TooManyAccounts,
    UnknownMember,
}

[GenerateSerializer]
public sealed record LinkOutcome(LinkStatus Status, LinkedBankAccount? Account);
