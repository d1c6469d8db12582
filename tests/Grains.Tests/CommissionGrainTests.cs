using MyPay.Grains.Members;
using MyPay.Grains.Payments;

namespace MyPay.Grains.Tests;

/// <summary>
/// The commission history rows the member and commission grains append: one per change, stored with the state that
/// changed, none for a change that changes nothing or is refused.
/// </summary>
public sealed class CommissionGrainTests(GrainHost host) : IClassFixture<GrainHost>
{
    private static readonly DateTimeOffset Now = new(2026, 11, 22, 9, 0, 0, TimeSpan.Zero);

    // The tests share one cluster and database: each has a merchant and an author of its own (rows are read by author).
    private readonly string merchantId = $"m-{Guid.NewGuid():N}";
    private readonly string author = $"operator-{Guid.NewGuid():N}";

    private async Task<IMemberGrain> RegisteredAsync(MemberType type = MemberType.Merchant)
    {
        var member = host.Grains.GetGrain<IMemberGrain>(merchantId);
        Assert.True(await member.Register(new MemberRegistration(type, "상점", $"{merchantId}@example.com", "", "hash", Now)));
        return member;
    }

    [Fact]
    public async Task SetCommission_StoresOneRowPerChange_NoneForTheSameRate_AndTheStoredStateAgrees()
    {
        var merchant = await RegisteredAsync();

        await merchant.SetCommission(500, author, Now);
        await merchant.SetCommission(500, author, Now.AddMinutes(1));
        await merchant.SetCommission(null, author, Now.AddMinutes(2));
        await merchant.SetCommission(null, author, Now.AddMinutes(3));
        await merchant.SetCommission(0, author, Now.AddMinutes(4));
        await host.DeactivateAsync(merchant);

        Assert.Equal(
            [
                new CommissionChange(merchantId, null, 500, author, Now),
                new CommissionChange(merchantId, 500, null, author, Now.AddMinutes(2)),
                new CommissionChange(merchantId, null, 0, author, Now.AddMinutes(4)),
            ],
            await host.Rows.CommissionChangesByAsync(author));
        Assert.Equal(0, (await merchant.GetProfile())!.CommissionBps);
    }

    [Fact]
    public async Task SetCommission_OnACustomerOrNobody_IsNull_AndStoresNothing()
    {
        var customer = await RegisteredAsync(MemberType.Customer);

        Assert.Null(await customer.SetCommission(500, author, Now));
        Assert.Null(await host.Grains.GetGrain<IMemberGrain>($"nobody-{Guid.NewGuid():N}").SetCommission(500, author, Now));

        Assert.Empty(await host.Rows.CommissionChangesByAsync(author));
        Assert.Null((await customer.GetProfile())!.CommissionBps);
    }

    [Theory]
    [InlineData(10_001, "ops")]
    [InlineData(-1, "ops")]
    [InlineData(100, "")]
    [InlineData(100, " ")]
    public async Task SetCommission_InvalidArguments_Throw_AndStoreNothing(long rateBps, string changedBy)
    {
        var merchant = await RegisteredAsync();

        await Assert.ThrowsAnyAsync<ArgumentException>(() => merchant.SetCommission(rateBps, changedBy, Now));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => merchant.SetCommission(100, new string('x', CommissionChange.ChangedByLengthMax + 1), Now));

        Assert.Null((await merchant.GetProfile())!.CommissionBps);
        Assert.Empty(await host.Rows.CommissionChangesByAsync(changedBy));
        Assert.Empty(await host.Rows.CommissionChangesByAsync(new string('x', CommissionChange.ChangedByLengthMax + 1)));
    }

    [Fact]
    public async Task SetDefaultBps_StoresOneRowPerChange_FromTheBuiltInRate_NoneForTheSameRate()
    {
        // A commission grain of this test's own: every key's rows are default rows (merchant_id NULL), told apart by author.
        var commission = host.Grains.GetGrain<ICommissionGrain>($"test-{Guid.NewGuid():N}");

        await commission.SetDefaultBps(Commission.DefaultRateBps, author, Now);
        await commission.SetDefaultBps(300, author, Now.AddMinutes(1));
        await commission.SetDefaultBps(300, author, Now.AddMinutes(2));
        await commission.SetDefaultBps(200, author, Now.AddMinutes(3));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => commission.SetDefaultBps(10_001, author, Now.AddMinutes(4)));
        await host.DeactivateAsync(commission);

        Assert.Equal(
            [
                new CommissionChange(null, Commission.DefaultRateBps, 300, author, Now.AddMinutes(1)),
                new CommissionChange(null, 300, 200, author, Now.AddMinutes(3)),
            ],
            await host.Rows.CommissionChangesByAsync(author));
        Assert.Equal(200, await commission.GetDefaultBps());
    }
}
