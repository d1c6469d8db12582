using MyPay.Silo.Grains;

namespace MyPay.Grains.Members;

/// <summary>A customer or merchant: one grain per member, keyed by member id.</summary>
public interface IMemberGrain
{
    /// <summary>Creates the member. False if this id is already registered (ids are random, so only a retry sees that).</summary>
    Task<bool> Register(MemberRegistration registration);

    /// <summary>The profile, or null when no member has this id.</summary>
    Task<MemberProfile?> GetProfile();

    /// <summary>The stored password hash, for sign-in; null when no member has this id.</summary>
    Task<string?> GetPasswordHash();

    /// <summary>Applies a profile change whose email (if any) the caller has already claimed. Null when unregistered.</summary>
    Task<MemberProfile?> ChangeProfile(ProfileChange change);

    /// <summary>Suspends or reactivates. Null when unregistered.</summary>
    Task<MemberProfile?> SetStatus(MemberStatus status);

    /// <summary>Sets a merchant's own commission rate, or with null returns it to the default. Null when not a merchant.</summary>
    Task<MemberProfile?> SetCommission(long? rateBps);

    /// <summary>Links a bank account the bank has confirmed. Linking one already linked returns it unchanged.</summary>
    Task<LinkOutcome> LinkBankAccount(LinkedBankAccount account);

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

public sealed record LinkOutcome(LinkStatus Status, LinkedBankAccount? Account);

/// <summary>Forwards <see cref="IMemberGrain"/> calls to the member's activation as messages.</summary>
internal sealed class MemberGrainReference(GrainReference<MemberGrain> grain) : IMemberGrain
{
    public Task<bool> Register(MemberRegistration registration) => grain.Update(member => member.Register(registration));

    public Task<MemberProfile?> GetProfile() => grain.Read(member => member.Profile);

    public Task<string?> GetPasswordHash() => grain.Read(member => member.PasswordHash);

    public Task<MemberProfile?> ChangeProfile(ProfileChange change) => grain.Update(member => member.ChangeProfile(change));

    public Task<MemberProfile?> SetStatus(MemberStatus status) => grain.Update(member => member.SetStatus(status));

    public Task<MemberProfile?> SetCommission(long? rateBps) => grain.Update(member => member.SetCommission(rateBps));

    public Task<LinkOutcome> LinkBankAccount(LinkedBankAccount account) => grain.Update(member => member.LinkBankAccount(account));

    public Task<IReadOnlyList<LinkedBankAccount>> GetBankAccounts() => grain.Read(member => member.BankAccounts);
}
