using Microsoft.Extensions.DependencyInjection;
using MyPay.Grains.Money;
using MyPay.Silo.Grains;

namespace MyPay.Grains.Tests;

public sealed class WalletGrainTests : IAsyncLifetime
{
    private readonly GrainHost host = new(services => services.Configure<WalletLimits>(limits =>
    {
        limits.BalanceCapWon = 100_000;
        limits.RechargeCapWon = 50_000;
        limits.RechargeUnitWon = 10_000;
    }));

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await host.DisposeAsync();

    private IWalletGrain Wallet(string member = "member-1") => host.Grains.GetGrain<IWalletGrain>(member);

    private static OperationKey Key(string id, long amountWon) => new(id, $"recharge:{amountWon}");

    [Fact]
    public async Task Recharge_Valid_AddsToBalance()
    {
        var outcome = await Wallet().Recharge(30_000, Key("a", 30_000));

        Assert.Equal(new RechargeOutcome(RechargeStatus.Recharged, 30_000, 30_000), outcome);
        Assert.Equal(30_000, await Wallet().GetBalance());
    }

    [Theory]
    [InlineData(0, RechargeStatus.NotAPositiveAmount)]
    [InlineData(-10_000, RechargeStatus.NotAPositiveAmount)]
    [InlineData(15_000, RechargeStatus.NotAMultipleOfTheUnit)]
    [InlineData(60_000, RechargeStatus.AboveTheRechargeCap)]
    [InlineData(long.MinValue, RechargeStatus.NotAPositiveAmount)]
    [InlineData(long.MaxValue, RechargeStatus.NotAMultipleOfTheUnit)]
    public async Task Recharge_Rejected_ChangesNothing(long amountWon, RechargeStatus expected)
    {
        await Wallet().Recharge(10_000, Key("seed", 10_000));

        var outcome = await Wallet().Recharge(amountWon, Key("bad", amountWon));

        Assert.Equal(expected, outcome.Status);
        Assert.Equal(10_000, outcome.BalanceWon);
        Assert.Equal(10_000, await Wallet().GetBalance());
    }

    [Fact]
    public async Task Recharge_PastBalanceCap_IsRejectedAndTheCapIsReachable()
    {
        await Wallet().Recharge(50_000, Key("1", 50_000));
        await Wallet().Recharge(40_000, Key("2", 40_000));

        var over = await Wallet().Recharge(20_000, Key("3", 20_000));
        var exact = await Wallet().Recharge(10_000, Key("4", 10_000));

        Assert.Equal(RechargeStatus.AboveTheBalanceCap, over.Status);
        Assert.Equal(new RechargeOutcome(RechargeStatus.Recharged, 10_000, 100_000), exact);
    }

    [Fact]
    public async Task Recharge_ConcurrentAtTheCap_NeverExceedsIt()
    {
        // 50 concurrent recharges of 10,000 against a 100,000 cap: exactly 10 succeed, whatever the interleaving.
        var outcomes = await Task.WhenAll(Enumerable.Range(0, 50).Select(i => Wallet().Recharge(10_000, Key($"c{i}", 10_000))));

        Assert.Equal(10, outcomes.Count(outcome => outcome.Status == RechargeStatus.Recharged));
        Assert.Equal(40, outcomes.Count(outcome => outcome.Status == RechargeStatus.AboveTheBalanceCap));
        Assert.Equal(100_000, await Wallet().GetBalance());
    }

    [Fact]
    public async Task Recharge_RepeatedKey_ReturnsFirstOutcomeEvenAfterReactivation()
    {
        var first = await Wallet().Recharge(10_000, Key("once", 10_000));
        await Wallet().Recharge(20_000, Key("twice", 20_000));
        host.Silo.CollectIdle(TimeSpan.Zero);

        var repeat = await Wallet().Recharge(10_000, Key("once", 10_000));

        Assert.Equal(first, repeat);
        Assert.Equal(30_000, await Wallet().GetBalance());
    }

    [Fact]
    public async Task Recharge_KeyReusedWithOtherRequest_Throws()
    {
        await Wallet().Recharge(10_000, Key("k", 10_000));

        await Assert.ThrowsAsync<OperationKeyReusedException>(() => Wallet().Recharge(20_000, Key("k", 20_000)));
        Assert.Equal(10_000, await Wallet().GetBalance());
    }

    [Fact]
    public async Task Wallets_AreIndependentPerMember()
    {
        await Wallet("a").Recharge(10_000, Key("k", 10_000));
        await Wallet("b").Recharge(20_000, Key("k", 20_000));

        Assert.Equal(10_000, await Wallet("a").GetBalance());
        Assert.Equal(20_000, await Wallet("b").GetBalance());
    }
}
