using Microsoft.Extensions.DependencyInjection;
using MyPay.Grains.Ledger;
using MyPay.Grains.Money;
using MyPay.Silo.Grains;
using MyPay.Silo.Storage;

namespace MyPay.Grains.Tests;

public sealed class WalletGrainTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Now = new(2026, 11, 22, 0, 0, 0, TimeSpan.Zero);

    private readonly GrainHost host = new(services => services.Configure<WalletLimits>(limits =>
    {
        limits.BalanceCapWon = 100_000;
        limits.RechargeCapWon = 50_000;
        limits.RechargeUnitWon = 10_000;
    }));

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await host.DisposeAsync();

    private IWalletGrain Wallet(string member = "member-1") => host.Grains.GetGrain<IWalletGrain>(member);

    private IReadOnlyList<JournalEntry> Journal => [.. ((MemoryGrainStorage)host.Services.GetRequiredService<IGrainStorage>()).Records.OfType<JournalEntry>()];

    private static OperationKey Key(string id, long amountWon) => new(id, $"recharge:{amountWon}");

    private async Task<long> RechargeAsync(string rechargeId, long amountWon, long feeWon = 0, string member = "member-1")
    {
        var reserved = await Wallet(member).ReserveRecharge(rechargeId, amountWon, Key(rechargeId, amountWon));
        Assert.Equal(RechargeStatus.Reserved, reserved.Status);
        return await Wallet(member).CompleteRecharge(new RechargeCompletion(rechargeId, $"fb-{rechargeId}", feeWon, rechargeId, Now));
    }

    [Fact]
    public async Task Reserve_ThenComplete_CreditsAndJournalsTheRechargeAndTheBankFee()
    {
        var balanceWon = await RechargeAsync("r1", 30_000, feeWon: 300);

        Assert.Equal(30_000, balanceWon);
        Assert.Equal(30_000, await Wallet().GetBalance());
        var recharge = Assert.Single(Journal, entry => entry.Kind == "recharge");
        Assert.Equal([new Posting(Accounts.CorporateCash, 30_000), new Posting("wallet:member-1", -30_000)], recharge.Postings);
        var fee = Assert.Single(Journal, entry => entry.Kind == "bank-fee");
        Assert.Equal([new Posting(Accounts.BankFeeExpense, 300), new Posting(Accounts.CorporateCash, -300)], fee.Postings);
    }

    [Fact]
    public async Task Reserve_DoesNotCreditUntilCompleted()
    {
        await Wallet().ReserveRecharge("r1", 30_000, Key("r1", 30_000));

        Assert.Equal(0, await Wallet().GetBalance());
        Assert.Empty(Journal);
    }

    [Fact]
    public async Task Complete_Twice_CreditsOnceAndReturnsTheFirstBalance()
    {
        var first = await RechargeAsync("r1", 30_000);
        await RechargeAsync("r2", 10_000);

        var repeat = await Wallet().CompleteRecharge(new RechargeCompletion("r1", "fb-r1", 0, "r1", Now));

        Assert.Equal(first, repeat);
        Assert.Equal(40_000, await Wallet().GetBalance());
        Assert.Equal(2, Journal.Count);
    }

    [Fact]
    public async Task Release_FreesTheReservationAndCreditsNothing()
    {
        await Wallet().ReserveRecharge("r1", 50_000, Key("r1", 50_000));
        await Wallet().ReserveRecharge("r2", 50_000, Key("r2", 50_000));
        var full = await Wallet().ReserveRecharge("r3", 10_000, Key("r3", 10_000));

        await Wallet().ReleaseRecharge("r1");
        var afterRelease = await Wallet().ReserveRecharge("r4", 50_000, Key("r4", 50_000));

        Assert.Equal(RechargeStatus.AboveTheBalanceCap, full.Status);
        Assert.Equal(RechargeStatus.Reserved, afterRelease.Status);
        Assert.Equal(0, await Wallet().GetBalance());
        Assert.Empty(Journal);
    }

    [Fact]
    public async Task Complete_Unreserved_IsAnInvariantFailure()
    {
        await Assert.ThrowsAsync<InvalidOperationException>(() => Wallet().CompleteRecharge(new RechargeCompletion("never", "fb", 0, null, Now)));
        Assert.Equal(0, await Wallet().GetBalance());
    }

    [Theory]
    [InlineData(0, RechargeStatus.NotAPositiveAmount)]
    [InlineData(-10_000, RechargeStatus.NotAPositiveAmount)]
    [InlineData(15_000, RechargeStatus.NotAMultipleOfTheUnit)]
    [InlineData(60_000, RechargeStatus.AboveTheRechargeCap)]
    [InlineData(long.MinValue, RechargeStatus.NotAPositiveAmount)]
    [InlineData(long.MaxValue, RechargeStatus.NotAMultipleOfTheUnit)]
    public async Task Reserve_Rejected_ChangesNothing(long amountWon, RechargeStatus expected)
    {
        await RechargeAsync("seed", 10_000);

        var outcome = await Wallet().ReserveRecharge("bad", amountWon, Key("bad", amountWon));

        Assert.Equal(expected, outcome.Status);
        Assert.Equal(10_000, outcome.BalanceWon);
        Assert.Equal(10_000, await Wallet().GetBalance());
    }

    [Fact]
    public async Task Reserve_ConcurrentAtTheCap_NeverExceedsIt()
    {
        // 50 concurrent reservations of 10,000 against a 100,000 cap: exactly 10 are accepted, whatever the interleaving.
        var outcomes = await Task.WhenAll(Enumerable.Range(0, 50).Select(i => Wallet().ReserveRecharge($"c{i}", 10_000, Key($"c{i}", 10_000))));
        await Task.WhenAll(outcomes.Where(outcome => outcome.Status == RechargeStatus.Reserved)
            .Select(outcome => Wallet().CompleteRecharge(new RechargeCompletion(outcome.RechargeId, $"fb-{outcome.RechargeId}", 0, null, Now))));

        Assert.Equal(10, outcomes.Count(outcome => outcome.Status == RechargeStatus.Reserved));
        Assert.Equal(40, outcomes.Count(outcome => outcome.Status == RechargeStatus.AboveTheBalanceCap));
        Assert.Equal(100_000, await Wallet().GetBalance());
        Assert.Equal(100_000, -Journal.SelectMany(entry => entry.Postings).Where(posting => posting.Account == "wallet:member-1").Sum(posting => posting.AmountWon));
    }

    [Fact]
    public async Task Reserve_RepeatedKey_ReturnsTheFirstRechargeIdEvenAfterReactivation()
    {
        var first = await Wallet().ReserveRecharge("first-id", 10_000, Key("k", 10_000));
        host.Silo.CollectIdle(TimeSpan.Zero);

        var repeat = await Wallet().ReserveRecharge("second-id", 10_000, Key("k", 10_000));

        Assert.Equal(first, repeat);
        Assert.Equal("first-id", repeat.RechargeId);
    }

    [Fact]
    public async Task Reserve_KeyReusedWithOtherRequest_Throws()
    {
        await Wallet().ReserveRecharge("r1", 10_000, Key("k", 10_000));

        await Assert.ThrowsAsync<OperationKeyReusedException>(() => Wallet().ReserveRecharge("r2", 20_000, Key("k", 20_000)));
    }

    [Fact]
    public async Task Wallets_AreIndependentPerMember()
    {
        await RechargeAsync("a1", 10_000, member: "a");
        await RechargeAsync("b1", 20_000, member: "b");

        Assert.Equal(10_000, await Wallet("a").GetBalance());
        Assert.Equal(20_000, await Wallet("b").GetBalance());
    }

    [Fact]
    public void JournalEntry_Unbalanced_IsRefused()
    {
        Assert.Throws<InvalidOperationException>(() => new JournalEntry("e", "test", null, null, null, Now, [new Posting("a", 10), new Posting("b", -9)]));
        Assert.Throws<InvalidOperationException>(() => new JournalEntry("e", "test", null, null, null, Now, [new Posting("a", 0), new Posting("b", 0)]));
        Assert.Throws<InvalidOperationException>(() => new JournalEntry("e", "test", null, null, null, Now, [new Posting("a", 10)]));
        Assert.Throws<InvalidOperationException>(() => new JournalEntry("e", "test", null, null, null, Now, [new Posting("a", 10), new Posting("a", -10)]));
    }
}
