using System.Security.Cryptography;
using IGrainFactory = Orleans.IGrainFactory;

namespace MyPay.Grains.Members;

/// <summary>
/// Registration, profile changes and sign-in look-ups: the steps that span a member grain and the
/// email index. Each step is idempotent, so a retry after a failure in between converges.
/// </summary>
public sealed class MemberRegistry(IGrainFactory grains, TimeProvider time)
{
    /// <summary>
    /// A claim this old, held by an id with no member behind it, is a registration that stopped between
    /// claiming the email and creating the member; a new registration may take it over. One minute is far
    /// longer than the two steps take, so a registration still under way is never robbed.
    /// </summary>
    public static readonly TimeSpan AbandonedClaimAge = TimeSpan.FromMinutes(1);

    public async Task<RegistrationResult> RegisterAsync(MemberType type, string name, string email, string address, string passwordHash)
    {
        var memberId = NewMemberId();
        var normalizedEmail = MemberRules.NormalizeEmail(email);
        var claim = await ClaimEmailAsync(normalizedEmail, memberId);
        if (!claim.Granted)
        {
            return new RegistrationResult(null, EmailTaken: true);
        }

        var member = grains.GetGrain<IMemberGrain>(memberId);
        await member.Register(new MemberRegistration(
            type, MemberRules.NormalizeName(name), normalizedEmail, address.Trim(), passwordHash, time.GetUtcNow()));
        return new RegistrationResult(await member.GetProfile(), EmailTaken: false);
    }

    /// <summary>Changes name, email or address. An email change claims the new address first and releases the old one after.</summary>
    public async Task<ProfileChangeResult> ChangeProfileAsync(string memberId, ProfileChange change)
    {
        var member = grains.GetGrain<IMemberGrain>(memberId);
        if (await member.GetProfile() is not { } profile)
        {
            return new ProfileChangeResult(null, EmailTaken: false);
        }

        var newEmail = change.Email is null ? null : MemberRules.NormalizeEmail(change.Email);
        var emailChanges = newEmail is not null && newEmail != profile.Email;
        if (emailChanges && !(await ClaimEmailAsync(newEmail!, memberId)).Granted)
        {
            return new ProfileChangeResult(profile, EmailTaken: true);
        }

        var changed = await member.ChangeProfile(change with
        {
            Name = change.Name is null ? null : MemberRules.NormalizeName(change.Name),
            Email = newEmail,
            Address = change.Address?.Trim(),
        });
        if (emailChanges)
        {
            await grains.GetGrain<IEmailIndexGrain>(profile.Email).Release(memberId);
        }

        return new ProfileChangeResult(changed, EmailTaken: false);
    }

    /// <summary>The member registered under an email, with their password hash; null if there is none.</summary>
    public async Task<(MemberProfile Profile, string PasswordHash)?> FindForSignInAsync(string email)
    {
        if (await grains.GetGrain<IEmailIndexGrain>(MemberRules.NormalizeEmail(email)).GetOwner() is not { } memberId)
        {
            return null;
        }

        var member = grains.GetGrain<IMemberGrain>(memberId);
        return await member.GetProfile() is { } profile && await member.GetPasswordHash() is { } hash
            ? (profile, hash)
            : null;
    }

    private async Task<EmailClaim> ClaimEmailAsync(string normalizedEmail, string memberId)
    {
        var index = grains.GetGrain<IEmailIndexGrain>(normalizedEmail);
        var now = time.GetUtcNow();
        var claim = await index.Claim(memberId, now);
        if (claim.Granted || now - claim.ClaimedAt < AbandonedClaimAge)
        {
            return claim;
        }

        return await grains.GetGrain<IMemberGrain>(claim.OwnerMemberId).GetProfile() is null
            ? await index.TakeOver(memberId, claim.OwnerMemberId, now)
            : claim;
    }

    /// <summary>"m" and 20 hex digits (80 random bits): unguessable, and short enough to read out on the phone.</summary>
    private static string NewMemberId() => "m" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(10));
}

public sealed record RegistrationResult(MemberProfile? Profile, bool EmailTaken);

public sealed record ProfileChangeResult(MemberProfile? Profile, bool EmailTaken);
