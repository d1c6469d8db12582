using MyPay.Grains.Events;
using MyPay.Grains.Payments;
using MyPay.Silo.Batching;
using Orleans;

namespace MyPay.Grains.Members;

/// <summary>
/// A member's profile, credentials and linked bank accounts. Commands are synchronous functions of the state and
/// their arguments (times arrive as arguments), so they may be applied again after a conflict.
/// </summary>
public sealed class MemberGrain : Grain, IMemberGrain
{
    /// <summary>A bound on linked accounts, so a member's state stays small. Banks allow a handful per service too.</summary>
    public const int BankAccountsMax = 10;

    /// <summary>The stored state's name: the grain type name it had before Orleans, so stored rows carry over.</summary>
    public const string StateName = "member";

    private readonly CommandBatch<MemberState> member;
    private readonly TimeProvider time;

    public MemberGrain(TimeProvider time)
    {
        member = new CommandBatch<MemberState>(this, StateName);
        this.time = time;
    }

    public override Task OnActivateAsync(CancellationToken cancellationToken) => member.LoadAsync();

    private string MemberId => this.GetPrimaryKeyString();

    public Task<MemberProfile?> GetProfile() => Task.FromResult(member.Committed.Profile);

    public Task<string?> GetPasswordHash() => Task.FromResult(member.Committed.Profile is null ? null : member.Committed.PasswordHash);

    public Task<IReadOnlyList<LinkedBankAccount>> GetBankAccounts() => Task.FromResult<IReadOnlyList<LinkedBankAccount>>([.. member.Committed.BankAccounts]);

    public Task<bool> Register(MemberRegistration registration) => member.Run(state =>
    {
        if (state.Profile is not null)
        {
            return false;
        }

        state.Profile = new MemberProfile(
            MemberId,
            registration.Type,
            registration.Name,
            registration.Email,
            registration.Address,
            MemberStatus.Active,
            CommissionBps: null,
            registration.RegisteredAt);
        state.PasswordHash = registration.PasswordHash;
        state.PublishAbout(
            DomainEvents.MemberStream(MemberId), DomainEvents.MemberRegistered, MemberId,
            new MemberRegisteredEvent(MemberId, registration.Type, registration.Address, registration.RegisteredAt), registration.RegisteredAt);
        return true;
    });

    public Task<MemberProfile?> ChangeProfile(ProfileChange change) => ChangeRegistered(profile => profile with
    {
        Name = change.Name ?? profile.Name,
        Email = change.Email ?? profile.Email,
        Address = change.Address ?? profile.Address,
    });

    public Task<MemberProfile?> SetStatus(MemberStatus status) => ChangeRegistered(profile => profile with { Status = status });

    public Task<MemberProfile?> SetCommission(long? rateBps, string changedBy, DateTimeOffset changedAt)
    {
        CommissionChange.CheckArguments(rateBps, changedBy);
        return member.Run(state =>
        {
            if (state.Profile is not { Type: MemberType.Merchant } profile)
            {
                return null;
            }

            // Only a change is history: the same rate again (or the default again) leaves no row.
            if (profile.CommissionBps != rateBps)
            {
                new CommissionChange(MemberId, profile.CommissionBps, rateBps, changedBy, changedAt).AppendTo(state, DomainEvents.MemberStream(MemberId));
                state.Profile = profile with { CommissionBps = rateBps };
            }

            return state.Profile;
        });
    }

    public Task<LinkOutcome> LinkBankAccount(LinkedBankAccount account) => member.Run(state =>
    {
        var accounts = state.BankAccounts;
        if (state.Profile is not { } profile)
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
    });

    /// <summary>Replaces a registered member's profile with what <paramref name="change"/> makes of it; null (and nothing written) when it makes nothing.</summary>
    private Task<MemberProfile?> ChangeRegistered(Func<MemberProfile, MemberProfile?> change)
    {
        var at = time.GetUtcNow();
        return member.Run(state =>
        {
            if (state.Profile is not { } profile || change(profile) is not { } changed)
            {
                return null;
            }

            state.Profile = changed;
            state.PublishNext(DomainEvents.MemberStream(MemberId), DomainEvents.MemberChanged, new MemberChangedEvent(MemberId, changed.Address, changed.Status), at);
            return changed;
        });
    }
}
