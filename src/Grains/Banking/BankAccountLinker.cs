using MyPay.Grains.Members;
using IGrainFactory = Orleans.IGrainFactory;

namespace MyPay.Grains.Banking;

/// <summary>
/// Links a bank account to a member once the bank confirms it: it exists, it is open, and it is held
/// in the member's name. A suspended member links nothing, and the bank is not even asked.
/// </summary>
public sealed class BankAccountLinker(IGrainFactory grains, IBankGateway bank, TimeProvider time)
{
    public async Task<LinkResult> LinkAsync(string memberId, BankAccountNumber account, CancellationToken cancellationToken)
    {
        var member = grains.GetGrain<IMemberGrain>(memberId);
        switch (await member.GetProfile())
        {
            case null:
                return new LinkResult(LinkStatus.UnknownMember, null, null);
            case { Status: MemberStatus.Suspended }:
                return new LinkResult(LinkStatus.MemberSuspended, null, null);
            case { } profile:
                var lookup = await bank.LookUpAccountAsync(account, cancellationToken);
                var refusal = lookup.Status switch
                {
                    AccountLookupStatus.NotFound => BankRefusal.AccountNotFound,
                    AccountLookupStatus.Closed => BankRefusal.AccountClosed,
                    AccountLookupStatus.BankUnavailable => BankRefusal.BankUnavailable,
                    _ when !SameHolder(lookup.HolderName, profile.Name) => BankRefusal.HolderMismatch,
                    _ => (BankRefusal?)null,
                };
                if (refusal is not null)
                {
                    return new LinkResult(null, refusal, null);
                }

                var outcome = await member.LinkBankAccount(new LinkedBankAccount(account.BankCode, account.AccountNumber, lookup.HolderName!, time.GetUtcNow()));
                return new LinkResult(outcome.Status, null, outcome.Account);
        }
    }

    /// <summary>
    /// Holder names compare as people write them: banks print "김민준" where a member typed "김 민준", so
    /// spaces, Unicode form and the case of Latin letters do not count.
    /// </summary>
    private static bool SameHolder(string? holderName, string memberName) =>
        holderName is not null && string.Equals(WithoutSpaces(holderName), WithoutSpaces(memberName), StringComparison.OrdinalIgnoreCase);

    private static string WithoutSpaces(string name) => MemberRules.NormalizeName(name).Replace(" ", "", StringComparison.Ordinal);
}

/// <summary>Why the bank's answer stopped a link.</summary>
public enum BankRefusal
{
    AccountNotFound,
    AccountClosed,
    HolderMismatch,
    BankUnavailable,
}

/// <summary>Either the member grain's outcome (<see cref="Status"/>) or the bank's refusal.</summary>
public sealed record LinkResult(LinkStatus? Status, BankRefusal? Refusal, LinkedBankAccount? Account);
