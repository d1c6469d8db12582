using MyPay.Silo.Batching;
using Orleans;
using Orleans.Concurrency;

namespace MyPay.Grains.Members;

/// <summary>
/// Who owns an email address: one grain per normalized address, so "one member per email" is decided
/// by one grain's versioned state. Two registrations racing for one address, on one node or two,
/// serialise here: the second sees the first's claim.
/// </summary>
public interface IEmailIndexGrain : IGrainWithStringKey
{
    /// <summary>Claims the address for a member, unless another member holds it.</summary>
    Task<EmailClaim> Claim(string memberId, DateTimeOffset claimedAt);

    /// <summary>Moves the claim from <paramref name="expectedOwner"/> (a registration that never completed) to <paramref name="memberId"/>.</summary>
    Task<EmailClaim> TakeOver(string memberId, string expectedOwner, DateTimeOffset claimedAt);

    /// <summary>Gives the address up, if <paramref name="memberId"/> holds it.</summary>
    Task<bool> Release(string memberId);

    [ReadOnly]
    Task<string?> GetOwner();
}

/// <summary>The outcome of a claim: who holds the address now, and since when.</summary>
[GenerateSerializer]
public sealed record EmailClaim(bool Granted, string OwnerMemberId, DateTimeOffset ClaimedAt);

[GenerateSerializer]
public sealed class EmailIndexState
{
    [Id(0)]
    public string? OwnerMemberId { get; set; }

    [Id(1)]
    public DateTimeOffset ClaimedAt { get; set; }
}

public sealed class EmailIndexGrain : Grain, IEmailIndexGrain
{
    /// <summary>The stored state's name: the grain type name it had before Orleans, so stored rows carry over.</summary>
    public const string StateName = "member-email";

    private readonly CommandBatch<EmailIndexState> index;

    public EmailIndexGrain() =>
        index = new CommandBatch<EmailIndexState>(this, StateName);

    public override Task OnActivateAsync(CancellationToken cancellationToken) => index.LoadAsync();

    public Task<string?> GetOwner() => Task.FromResult(index.Committed.OwnerMemberId);

    public Task<EmailClaim> Claim(string memberId, DateTimeOffset claimedAt) => index.Run(state => Claim(state, memberId, claimedAt));

    public Task<EmailClaim> TakeOver(string memberId, string expectedOwner, DateTimeOffset claimedAt) => index.Run(state =>
    {
        if (state.OwnerMemberId != expectedOwner)
        {
            return Claim(state, memberId, claimedAt);
        }

        state.OwnerMemberId = memberId;
        state.ClaimedAt = claimedAt;
        return new EmailClaim(true, memberId, claimedAt);
    });

    public Task<bool> Release(string memberId) => index.Run(state =>
    {
        if (state.OwnerMemberId != memberId)
        {
            return false;
        }

        state.OwnerMemberId = null;
        return true;
    });

    private static EmailClaim Claim(EmailIndexState state, string memberId, DateTimeOffset claimedAt)
    {
        if (state.OwnerMemberId is { } owner && owner != memberId)
        {
            return new EmailClaim(false, owner, state.ClaimedAt);
        }

        if (state.OwnerMemberId is null)
        {
            state.OwnerMemberId = memberId;
            state.ClaimedAt = claimedAt;
        }

        return new EmailClaim(true, memberId, state.ClaimedAt);
    }
}
