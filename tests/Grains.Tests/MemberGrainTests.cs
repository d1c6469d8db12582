using MyPay.Grains.Members;

namespace MyPay.Grains.Tests;

public sealed class MemberGrainTests(GrainHost host) : IClassFixture<GrainHost>
{
    private static readonly DateTimeOffset Now = new(2026, 11, 22, 0, 0, 0, TimeSpan.Zero);

    // The tests share one cluster and database: each has a member of its own.
    private readonly string memberId = $"m-{Guid.NewGuid():N}";

    private async Task<IMemberGrain> RegisteredAsync()
    {
        var member = host.Grains.GetGrain<IMemberGrain>(memberId);
        await member.Register(new MemberRegistration(MemberType.Customer, "김민준", "a@example.com", "", "hash", Now));
        return member;
    }

    private static LinkedBankAccount Account(int i) => new("004", $"100-{i:D3}", "김민준", Now);

    [Fact]
    public async Task Register_Twice_KeepsTheFirst()
    {
        var member = await RegisteredAsync();

        var again = await member.Register(new MemberRegistration(MemberType.Merchant, "다른 사람", "b@example.com", "", "other", Now));

        Assert.False(again);
        Assert.Equal("김민준", (await member.GetProfile())!.Name);
        Assert.Equal("hash", await member.GetPasswordHash());
    }

    [Fact]
    public async Task Unregistered_HasNoProfileNoHashAndLinksNothing()
    {
        var member = host.Grains.GetGrain<IMemberGrain>(memberId);

        Assert.Null(await member.GetProfile());
        Assert.Null(await member.GetPasswordHash());
        Assert.Equal(LinkStatus.UnknownMember, (await member.LinkBankAccount(Account(1))).Status);
        Assert.Null(await member.SetStatus(MemberStatus.Suspended));
    }

    [Fact]
    public async Task LinkBankAccount_BoundedAndIdempotent()
    {
        var member = await RegisteredAsync();

        var outcomes = new List<LinkStatus>();
        for (var i = 0; i < MemberGrain.BankAccountsMax + 1; i++)
        {
            outcomes.Add((await member.LinkBankAccount(Account(i))).Status);
        }

        var relink = await member.LinkBankAccount(Account(0));

        Assert.All(outcomes.Take(MemberGrain.BankAccountsMax), status => Assert.Equal(LinkStatus.Linked, status));
        Assert.Equal(LinkStatus.TooManyAccounts, outcomes[^1]);
        Assert.Equal(LinkStatus.AlreadyLinked, relink.Status);
        Assert.Equal(MemberGrain.BankAccountsMax, (await member.GetBankAccounts()).Count);
    }

    [Fact]
    public async Task LinkBankAccount_WhenSuspended_IsRefused()
    {
        var member = await RegisteredAsync();
        await member.SetStatus(MemberStatus.Suspended);

        var outcome = await member.LinkBankAccount(Account(1));

        Assert.Equal(LinkStatus.MemberSuspended, outcome.Status);
        Assert.Empty(await member.GetBankAccounts());
    }
}
