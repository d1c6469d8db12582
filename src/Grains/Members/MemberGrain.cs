using MyPay.Silo.Grains;

namespace MyPay.Grains.Members;

/// <summary>
/// A member's profile, credentials and linked bank accounts. Commands are synchronous functions of
/// the state and their arguments (times arrive as arguments), so the silo may batch and re-apply them.
/// </summary>
public sealed class MemberGrain(string memberId, IPersistentState<MemberState> member)
{
    /// <summary>A bound on linked accounts, so a member's state stays small. Banks allow a handful per service too.</summary>
    public const int BankAccountsMax = 10;

    public MemberProfile? Profile => member.State.Profile;

    public string? PasswordHash => member.State.Profile is null ? null : member.State.PasswordHash;

    public IReadOnlyList<LinkedBankAccount> BankAccounts => [.. member.State.BankAccounts];

    public bool Register(MemberRegistration registration)
    {
        if (member.State.Profile is not null)
        {
            return false;
        }

        member.State.Profile = new MemberProfile(
            memberId,
            registration.Type,
            registration.Name,
            registration.Email,
            registration.Address,
            MemberStatus.Active,
            CommissionBps: null,
            registration.RegisteredAt);
        member.State.PasswordHash = registration.PasswordHash;
        return true;
    }

    public MemberProfile? ChangeProfile(ProfileChange change)
    {
        if (member.State.Profile is not { } profile)
        {
            return null;
        }

        member.State.Profile = profile with
        {
            Name = change.Name ?? profile.Name,
            Email = change.Email ?? profile.Email,
            Address = change.Address ?? profile.Address,
        };
        return member.State.Profile;
    }

    public MemberProfile? SetStatus(MemberStatus status)
    {
        if (member.State.Profile is not { } profile)
        {
            return null;
        }

        member.State.Profile = profile with { Status = status };
        return member.State.Profile;
    }

    public MemberProfile? SetCommission(long? rateBps)
    {
        if (member.State.Profile is not { Type: MemberType.Merchant } profile)
        {
            return null;
        }

        member.State.Profile = profile with { CommissionBps = rateBps };
        return member.State.Profile;
    }

    public LinkOutcome LinkBankAccount(LinkedBankAccount account)
    {
        var accounts = member.State.BankAccounts;
        if (member.State.Profile is not { } profile)
        {
            return new LinkOutcome(LinkStatus.UnknownMember, null);
        }

        if (profile.Status == MemberStatus.Suspended)
        {
            return new LinkOutcome(LinkStatus.MemberSuspended, null);
        }

        if (accounts.Find(linked => linked.BankCode == account.BankCode && linked.AccountNumber == account.AccountNumber) is { } existing)
        {
            return new LinkOutcome(LinkStatus.AlreadyLinked, existing);
        }

        if (accounts.Count >= BankAccountsMax)
        {
            return new LinkOutcome(LinkStatus.TooManyAccounts, null);
        }

        accounts.Add(account);
        return new LinkOutcome(LinkStatus.Linked, account);
    }
}
