using Microsoft.Extensions.DependencyInjection;
using MyPay.Grains.Members;

namespace MyPay.Grains.Tests;

/// <summary>The member registry's tests' cluster, on a clock the tests move.</summary>
public sealed class MemberRegistryHost : GrainHost
{
    public MemberRegistryHost()
        : this(new ManualClock(new DateTimeOffset(2026, 11, 22, 9, 0, 0, TimeSpan.FromHours(9))))
    {
    }

    private MemberRegistryHost(ManualClock clock)
        : base(services => services.AddSingleton<TimeProvider>(clock)) => Clock = clock;

    public ManualClock Clock { get; }
}

/// <summary>A clock that stands still until moved; the tests of a class run one at a time, so it needs no lock.</summary>
public sealed class ManualClock(DateTimeOffset now) : TimeProvider
{
    private DateTimeOffset now = now;

    public override DateTimeOffset GetUtcNow() => now;

    public void Advance(TimeSpan by) => now += by;
}

// The tests share one cluster, database and clock (only ever moved forward); each uses emails of its own.
public sealed class MemberRegistryTests(MemberRegistryHost host) : IClassFixture<MemberRegistryHost>
{
    private ManualClock Clock => host.Clock;

    private MemberRegistry Registry => host.Services.GetRequiredService<MemberRegistry>();

    [Fact]
    public async Task Register_NormalizesAndStartsActive()
    {
        var result = await Registry.RegisterAsync(MemberType.Merchant, "  카페   서울숲 ", " Cafe@Example.COM ", " 성동구 ", "hash");

        var profile = Assert.IsType<MemberProfile>(result.Profile);
        Assert.False(result.EmailTaken);
        Assert.Equal("카페 서울숲", profile.Name);
        Assert.Equal("cafe@example.com", profile.Email);
        Assert.Equal("성동구", profile.Address);
        Assert.Equal(MemberStatus.Active, profile.Status);
        Assert.Equal(MemberType.Merchant, profile.Type);
        Assert.Equal(Clock.GetUtcNow(), profile.RegisteredAt);
        Assert.Matches("^m[0-9a-f]{20}$", profile.Id);
    }

    [Fact]
    public async Task Register_SameEmailConcurrently_OneWins()
    {
        var results = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => Registry.RegisterAsync(MemberType.Customer, $"사람 {i}", "same@example.com", "", "hash")));

        Assert.Single(results, result => result.Profile is not null);
        Assert.Equal(19, results.Count(result => result.EmailTaken));
    }

    [Fact]
    public async Task Register_AbandonedClaim_IsTakenOverOnlyAfterItsAge()
    {
        // A registration that claimed the email and then stopped before creating its member.
        await host.Grains.GetGrain<IEmailIndexGrain>("ghost@example.com").Claim("m-never-created", Clock.GetUtcNow());

        var tooSoon = await Registry.RegisterAsync(MemberType.Customer, "유령", "ghost@example.com", "", "hash");
        Clock.Advance(MemberRegistry.AbandonedClaimAge + TimeSpan.FromSeconds(1));
        var later = await Registry.RegisterAsync(MemberType.Customer, "유령", "ghost@example.com", "", "hash");

        Assert.True(tooSoon.EmailTaken);
        Assert.NotNull(later.Profile);
        Assert.Equal(later.Profile!.Id, await host.Grains.GetGrain<IEmailIndexGrain>("ghost@example.com").GetOwner());
    }

    [Fact]
    public async Task Register_OldClaimOfARealMember_IsNeverTakenOver()
    {
        var first = await Registry.RegisterAsync(MemberType.Customer, "원래 주인", "owner@example.com", "", "hash");
        Clock.Advance(TimeSpan.FromDays(30));

        var second = await Registry.RegisterAsync(MemberType.Customer, "도용", "owner@example.com", "", "hash");

        Assert.True(second.EmailTaken);
        Assert.Equal(first.Profile!.Id, await host.Grains.GetGrain<IEmailIndexGrain>("owner@example.com").GetOwner());
    }

    [Fact]
    public async Task ChangeProfile_Email_MovesTheClaim()
    {
        var member = (await Registry.RegisterAsync(MemberType.Customer, "이동", "old@example.com", "", "hash")).Profile!;

        var changed = await Registry.ChangeProfileAsync(member.Id, new ProfileChange(null, "NEW@example.com", null));

        Assert.Equal("new@example.com", changed.Profile!.Email);
        Assert.Equal(member.Id, await host.Grains.GetGrain<IEmailIndexGrain>("new@example.com").GetOwner());
        Assert.Null(await host.Grains.GetGrain<IEmailIndexGrain>("old@example.com").GetOwner());
        Assert.Null(await Registry.FindForSignInAsync("old@example.com"));
        Assert.Equal(member.Id, (await Registry.FindForSignInAsync("new@example.com"))!.Value.Profile.Id);
    }

    [Fact]
    public async Task ChangeProfile_ToATakenEmail_ChangesNothing()
    {
        var member = (await Registry.RegisterAsync(MemberType.Customer, "하나", "one@example.com", "", "hash")).Profile!;
        await Registry.RegisterAsync(MemberType.Customer, "둘", "two@example.com", "", "hash");

        var changed = await Registry.ChangeProfileAsync(member.Id, new ProfileChange("바뀜", "two@example.com", null));

        Assert.True(changed.EmailTaken);
        var profile = await host.Grains.GetGrain<IMemberGrain>(member.Id).GetProfile();
        Assert.Equal("하나", profile!.Name);
        Assert.Equal("one@example.com", profile.Email);
    }

    [Fact]
    public async Task ChangeProfile_UnknownMember_ReturnsNoProfile()
    {
        var changed = await Registry.ChangeProfileAsync("m-unknown", new ProfileChange("누구", null, null));

        Assert.Null(changed.Profile);
        Assert.False(changed.EmailTaken);
    }
}
