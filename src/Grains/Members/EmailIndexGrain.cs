using MyPay.Silo.Grains;

namespace MyPay.Grains.Members;

/// <summary>
/// Who owns an email address: one grain per normalized address, so "one member per email" is decided
/// by one grain's versioned state. Two registrations racing for one address, on one node or two,
/// serialise here: the second sees the first's claim.
/// </summary>
public interface IEmailIndexGrain
{
    /// <summary>Claims the address for a member, unless another member holds it.</summary>
    Task<EmailClaim> Claim(string memberId, DateTimeOffset claimedAt);

    /// <summary>Moves the claim from <paramref name="expectedOwner"/> (a registration that never completed) to <paramref name="memberId"/>.</summary>
    Task<EmailClaim> TakeOver(string memberId, string expectedOwner, DateTimeOffset claimedAt);

    /// <summary>Gives the address up, if <paramref name="memberId"/> holds it.</summary>
    Task<bool> Release(string memberId);

    Task<string?> GetOwner();
}

/// <summary>The outcome of a claim: who holds the address now, and since when.</summary>
public sealed record EmailClaim(bool Granted, string OwnerMemberId, DateTimeOffset ClaimedAt);

public sealed class EmailIndexState
{
    public string? OwnerMemberId { get; set; }

    public DateTimeOffset ClaimedAt { get; set; }
}

public sealed class EmailIndexGrain(IPersistentState<EmailIndexState> index)
{
    public string? Owner => index.State.OwnerMemberId;

    public EmailClaim Claim(string memberId, DateTimeOffset claimedAt)
    {
        if (index.State.OwnerMemberId is { } owner && owner != memberId)
        {
            return new EmailClaim(false, owner, index.State.ClaimedAt);
        }

        if (index.State.OwnerMemberId is null)
        {
            index.State.OwnerMemberId = memberId;
            index.State.ClaimedAt = claimedAt;
        }

        return new EmailClaim(true, memberId, index.State.ClaimedAt);
    }

    public EmailClaim TakeOver(string memberId, string expectedOwner, DateTimeOffset claimedAt)
    {
        if (index.State.OwnerMemberId != expectedOwner)
        {
            return Claim(memberId, claimedAt);
        }

        index.State.OwnerMemberId = memberId;
        index.State.ClaimedAt = claimedAt;
        return new EmailClaim(true, memberId, claimedAt);
    }

    public bool Release(string memberId)
    {
        if (index.State.OwnerMemberId != memberId)
        {
            return false;
        }

        index.State.OwnerMemberId = null;
        return true;
    }
}

internal sealed class EmailIndexGrainReference(GrainReference<EmailIndexGrain> grain) : IEmailIndexGrain
{
    public Task<EmailClaim> Claim(string memberId, DateTimeOffset claimedAt) => grain.Update(index => index.Claim(memberId, claimedAt));

    public Task<EmailClaim> TakeOver(string memberId, string expectedOwner, DateTimeOffset claimedAt) =>
        grain.Update(index => index.TakeOver(memberId, expectedOwner, claimedAt));

    public Task<bool> Release(string memberId) => grain.Update(index => index.Release(memberId));

    public Task<string?> GetOwner() => grain.Read(index => index.Owner);
}
