using Microsoft.Extensions.DependencyInjection;
using MyPay.Grains.Members;
using MyPay.Silo.Grains;
using Orleans;

namespace MyPay.Grains.Tests;

/// <summary>
/// The silo's kept grain references: one reference per grain, kept up to a bound, and as good as a fresh one —
/// a change made through a kept reference is read back through Orleans' own.
/// </summary>
public sealed class GrainReferencesTests(GrainHost host) : IClassFixture<GrainHost>
{
    private static readonly DateTimeOffset Now = new(2026, 12, 2, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task KeptReference_IsReusedAndReachesTheSameGrain()
    {
        var references = host.Services.GetRequiredService<GrainReferences>();
        var memberId = $"m-{Guid.NewGuid():N}";

        var kept = references.Get<IMemberGrain>(memberId);
        Assert.Same(kept, references.Get<IMemberGrain>(memberId));
        Assert.True(await kept.Register(new MemberRegistration(MemberType.Customer, "이서연", "kept@example.com", "", "hash", Now)));

        Assert.Equal("이서연", (await host.Grains.GetGrain<IMemberGrain>(memberId).GetProfile())!.Name);
        Assert.Equal(kept.GetGrainId(), host.Grains.GetGrain<IMemberGrain>(memberId).GetGrainId());
    }

    [Fact]
    public void PastTheBound_TheCacheStartsOver()
    {
        var references = new GrainReferences(host.Grains);
        var first = references.Get<IMemberGrain>("m-first");

        for (var i = 0; i < GrainReferences.CountMax; i++)
        {
            references.Get<IMemberGrain>($"m-{i}");
        }

        Assert.NotSame(first, references.Get<IMemberGrain>("m-first"));
    }
}
