using Microsoft.Extensions.DependencyInjection;
using MyPay.Grains.Banking;
using MyPay.Grains.Ledger;
using MyPay.Grains.Money;
using MyPay.Grains.Payments;
using MyPay.Silo.Grains;
using Orleans;

namespace MyPay.Grains.Tests;

/// <summary>The wallet grain's tests' cluster: a balance cap of 100,000 won, recharges of at most 50,000 in units of 10,000.</summary>
public sealed class WalletGrainHost() : GrainHost(services => services.Configure<WalletLimits>(limits =>
{
    limits.BalanceCapWon = 100_000;
    limits.RechargeCapWon = 50_000;
    limits.RechargeUnitWon = 10_000;
}));

public sealed class WalletGrainTests(WalletGrainHost host) : IClassFixture<WalletGrainHost>
{
    private static readonly DateTimeOffset Now = new(2026, 11, 22, 0, 0, 0, TimeSpan.Zero);

    // The tests share one cluster and database: each has a member, and so recharge ids and rows, of its own.
    private readonly string member = $"member-{Guid.NewGuid():N}";

    private IWalletGrain Wallet(string? memberId = null) => host.Grains.GetGrain<IWalletGrain>(memberId ?? member);

    private Task<IReadOnlyList<JournalEntry>> JournalAsync() => host.Rows.JournalAsync(member);

    private Task<IReadOnlyList<RechargeRecord>> RechargeRowsAsync() => host.Rows.RechargesAsync(member);

    /// <summary>A recharge id unique to this test's member: recharge rows and journal entries are keyed by it.</summary>
    private string RechargeId(string name, string? memberId = null) => $"{memberId ?? member}-{name}";

    private static OperationKey Key(string id, long amountWon) => new(id, $"recharge:{amountWon}");

    private RechargeRecord Pending(string name, long amountWon, string? memberId = null)
    {
        var rechargeId = RechargeId(name, memberId);
        return new(rechargeId, memberId ?? member, amountWon, new BankAccountNumber("004", "123-456"), rechargeId, $"fb-{rechargeId}", RechargeProgress.Pending, null, null, Now, null);
    }

    private Task<RechargeOutcome> ReserveAsync(string name, long amountWon, string? key = null) =>
        Wallet().ReserveRecharge(Pending(name, amountWon), Key(key ?? name, amountWon));

    /// <summary>The bank's answer to a recharge: succeeded with its fee, or failed for <paramref name="refusal"/>.</summary>
    private static RechargeAnswer Answer(RechargeRecord recharge, long feeWon = 0, string? refusal = null, DateTimeOffset? at = null)
    {
        var command = new FirmbankingCommand(recharge.MemberId, "recharge", recharge.From, new BankAccountNumber("088", "100-000-000001"), recharge.AmountWon);
        var sent = FirmbankingRecord.Sent(recharge.FirmbankingRequestId, command, recharge.RequestedAt);
        return new RechargeAnswer(
            recharge, sent.Answered(refusal is null ? FirmbankingStatus.Succeeded : FirmbankingStatus.Failed, refusal, feeWon, at ?? Now));
    }

    private RechargeAnswer Completion(string name, long amountWon, long feeWon = 0, string? memberId = null) =>
        Answer(Pending(name, amountWon, memberId), feeWon);

    private async Task<long> RechargeAsync(string name, long amountWon, long feeWon = 0, string? memberId = null)
    {
        var reserved = await Wallet(memberId).ReserveRecharge(Pending(name, amountWon, memberId), Key(name, amountWon));
        Assert.Equal(RechargeStatus.Reserved, reserved.Status);
        return await Wallet(memberId).CompleteRecharge(Completion(name, amountWon, feeWon, memberId));
    }

    [Fact]
    public async Task Reserve_ThenComplete_CreditsAndJournalsTheRechargeAndTheBankFee()
    {
        var balanceWon = await RechargeAsync("r1", 30_000, feeWon: 300);

        Assert.Equal(30_000, balanceWon);
        Assert.Equal(30_000, await Wallet().GetBalance());
        var journal = await JournalAsync();
        var recharge = Assert.Single(journal, entry => entry.Kind == "recharge");
        Assert.Equal([new Posting(Accounts.CorporateCash, 30_000), new Posting(Accounts.Wallet(member), -30_000)], recharge.Postings);
        var fee = Assert.Single(journal, entry => entry.Kind == "bank-fee");
        Assert.Equal([new Posting(Accounts.BankFeeExpense, 300), new Posting(Accounts.CorporateCash, -300)], fee.Postings);
    }

    [Fact]
    public async Task Reserve_DoesNotCreditUntilCompleted()
    {
        await ReserveAsync("r1", 30_000);

        Assert.Equal(0, await Wallet().GetBalance());
        Assert.Empty(await JournalAsync());
    }

    [Fact]
    public async Task Reserve_StoresTheWalletsResumeReminder_BeforeItAnswers()
    {
        // Goal: a reserved recharge survives its node. The wallet's reminder, which carries pending recharges on, is in
        // PostgreSQL by the time the reservation is answered.
        await ReserveAsync("r1", 30_000);

        Assert.Equal(["resume"], await host.Rows.RemindersAsync(Wallet().GetGrainId().ToString()));
    }

    [Fact]
    public async Task Complete_Twice_CreditsOnceAndReturnsTheFirstBalance()
    {
        var first = await RechargeAsync("r1", 30_000);
        await RechargeAsync("r2", 10_000);

        var repeat = await Wallet().CompleteRecharge(Completion("r1", 30_000));

        Assert.Equal(first, repeat);
        Assert.Equal(40_000, await Wallet().GetBalance());
        Assert.Equal(2, (await JournalAsync()).Count);
    }

    [Fact]
    public async Task Release_FreesTheReservationAndCreditsNothing()
    {
        await ReserveAsync("r1", 50_000);
        await ReserveAsync("r2", 50_000);
        var full = await ReserveAsync("r3", 10_000);

        await Wallet().ReleaseRecharge(Answer(Pending("r1", 50_000), refusal: "refused"));
        var afterRelease = await ReserveAsync("r4", 50_000);

        Assert.Equal(RechargeStatus.AboveTheBalanceCap, full.Status);
        Assert.Equal(RechargeStatus.Reserved, afterRelease.Status);
        Assert.Equal(0, await Wallet().GetBalance());
        Assert.Empty(await JournalAsync());
    }

    [Fact]
    public async Task Reserve_WritesThePendingRecharge_InTheReservingWrite()
    {
        var reserved = await ReserveAsync("r1", 30_000);

        Assert.Equal([Pending("r1", 30_000)], await RechargeRowsAsync());
        Assert.Equal(Pending("r1", 30_000), reserved.Recharge);
    }

    [Fact]
    public async Task Reserve_Rejected_WritesNoRecharge()
    {
        var outcome = await ReserveAsync("r1", 60_000);

        Assert.Equal(RechargeStatus.AboveTheRechargeCap, outcome.Status);
        Assert.Empty(await RechargeRowsAsync());
        Assert.Empty(await JournalAsync());
    }

    [Fact]
    public async Task Complete_FinishesTheRecharge_InTheCreditingWrite()
    {
        await RechargeAsync("r1", 30_000);

        Assert.Equal(
            [Pending("r1", 30_000) with { Status = RechargeProgress.Succeeded, BalanceAfterWon = 30_000, CompletedAt = Now }],
            await RechargeRowsAsync());
        Assert.Single(await JournalAsync(), entry => entry.Reference == RechargeId("r1"));
        Assert.Equal(FirmbankingStatus.Succeeded, Assert.Single(await host.Rows.FirmbankingIndexAsync($"fb-{RechargeId("r1")}")).Status);
    }

    [Fact]
    public async Task Release_FinishesTheRechargeAsFailed_Once()
    {
        await ReserveAsync("r1", 30_000);
        var refused = Answer(Pending("r1", 30_000), refusal: "refused");

        await Wallet().ReleaseRecharge(refused);
        await Wallet().ReleaseRecharge(Answer(Pending("r1", 30_000), refusal: "a late repeat", at: Now.AddMinutes(1)));

        Assert.Equal([Pending("r1", 30_000) with { Status = RechargeProgress.Failed, FailureReason = "refused", CompletedAt = Now }], await RechargeRowsAsync());
        var row = Assert.Single(await host.Rows.FirmbankingIndexAsync(refused.Transfer.RequestId));
        Assert.Equal((FirmbankingStatus.Failed, "refused", Now), (row.Status, row.FailureReason, row.CompletedAt));
    }

    [Fact]
    public async Task Release_OnAnotherBankCommandsRefusal_IsAnInvariantFailure_AndKeepsTheReservation()
    {
        // The bank refused some other command: this recharge's money may still have moved, so its reservation must stay.
        await ReserveAsync("r1", 50_000);
        await ReserveAsync("r2", 50_000);
        var others = Answer(Pending("r1", 50_000), refusal: "refused");

        await Assert.ThrowsAsync<InvalidOperationException>(
            () => Wallet().ReleaseRecharge(others with { Transfer = others.Transfer with { RequestId = "fb-some-other-command" } }));

        Assert.Equal(RechargeStatus.AboveTheBalanceCap, (await ReserveAsync("r3", 10_000)).Status);
        Assert.Equal(RechargeProgress.Pending, Assert.Single(await RechargeRowsAsync(), row => row.RechargeId == RechargeId("r1")).Status);
    }

    [Fact]
    public async Task Complete_Unreserved_IsAnInvariantFailure()
    {
        await Assert.ThrowsAsync<InvalidOperationException>(() => Wallet().CompleteRecharge(Completion("never", 10_000)));
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

        var outcome = await ReserveAsync("bad", amountWon);

        Assert.Equal(expected, outcome.Status);
        Assert.Equal(10_000, outcome.BalanceWon);
        Assert.Equal(10_000, await Wallet().GetBalance());
    }

    [Fact]
    public async Task Reserve_ConcurrentAtTheCap_NeverExceedsIt()
    {
        // 50 concurrent reservations of 10,000 against a 100,000 cap: exactly 10 are accepted, whatever the interleaving.
        var outcomes = await Task.WhenAll(Enumerable.Range(0, 50).Select(i => ReserveAsync($"c{i}", 10_000)));
        await Task.WhenAll(outcomes.Where(outcome => outcome.Status == RechargeStatus.Reserved)
            .Select(outcome => Wallet().CompleteRecharge(Answer(outcome.Recharge))));

        Assert.Equal(10, outcomes.Count(outcome => outcome.Status == RechargeStatus.Reserved));
        Assert.Equal(40, outcomes.Count(outcome => outcome.Status == RechargeStatus.AboveTheBalanceCap));
        Assert.Equal(100_000, await Wallet().GetBalance());
        var walletPostings = (await JournalAsync()).SelectMany(entry => entry.Postings).Where(posting => posting.Account == Accounts.Wallet(member));
        Assert.Equal(100_000, -walletPostings.Sum(posting => posting.AmountWon));
    }

    [Fact]
    public async Task Reserve_RepeatedKey_ReturnsTheFirstRechargeIdEvenAfterReactivation()
    {
        var first = await ReserveAsync("first-id", 10_000, "k");
        await host.DeactivateAsync(Wallet());

        var repeat = await ReserveAsync("second-id", 10_000, "k");

        Assert.Equal(first, repeat);
        Assert.Equal(RechargeId("first-id"), repeat.RechargeId);
    }

    [Fact]
    public async Task Reserve_KeyReusedWithOtherRequest_Throws()
    {
        await ReserveAsync("r1", 10_000, "k");

        await Assert.ThrowsAsync<OperationKeyReusedException>(() => ReserveAsync("r2", 20_000, "k"));
    }

    [Fact]
    public async Task Wallets_AreIndependentPerMember()
    {
        var (a, b) = ($"{member}-a", $"{member}-b");

        await RechargeAsync("a1", 10_000, memberId: a);
        await RechargeAsync("b1", 20_000, memberId: b);

        Assert.Equal(10_000, await Wallet(a).GetBalance());
        Assert.Equal(20_000, await Wallet(b).GetBalance());
    }

    [Fact]
    public void JournalEntry_Unbalanced_IsRefused()
    {
        Assert.Throws<InvalidOperationException>(() => new JournalEntry("e", "test", null, null, null, Now, [new Posting("a", 10), new Posting("b", -9)]));
        Assert.Throws<InvalidOperationException>(() => new JournalEntry("e", "test", null, null, null, Now, [new Posting("a", 0), new Posting("b", 0)]));
        Assert.Throws<InvalidOperationException>(() => new JournalEntry("e", "test", null, null, null, Now, [new Posting("a", 10)]));
        Assert.Throws<InvalidOperationException>(() => new JournalEntry("e", "test", null, null, null, Now, [new Posting("a", 10), new Posting("a", -10)]));
    }

    [Fact]
    public async Task ReserveIncoming_CountsTheBalanceRechargesInFlightAndOtherReservations_AndReleasingGivesTheRoomBack()
    {
        // Cap 100,000: 40,000 held, 30,000 on its way from the bank, so 30,000 of room.
        await RechargeAsync("held", 40_000);
        await ReserveAsync("in-flight", 30_000);

        var first = await Wallet().ReserveIncoming("rm-first", 20_000);
        var tooMuch = await Wallet().ReserveIncoming("rm-too-much", 10_001);
        var recharge = await ReserveAsync("after-reservations", 10_000);
        await Wallet().ReleaseIncoming("rm-first");
        var afterRelease = await Wallet().ReserveIncoming("rm-after-release", 20_000);

        Assert.Equal(new IncomingCredit(Accepted: true, RoomWon: 30_000), first);
        Assert.Equal(new IncomingCredit(Accepted: false, RoomWon: 10_000), tooMuch);
        Assert.Equal(RechargeStatus.Reserved, recharge.Status);
        Assert.Equal(new IncomingCredit(Accepted: true, RoomWon: 20_000), afterRelease);
        Assert.Equal(new IncomingCredit(Accepted: true, RoomWon: 30_000), await Wallet().ReserveIncoming("rm-first", 20_000));
        Assert.Equal(40_000, await Wallet().GetBalance());
    }

    [Fact]
    public async Task ReceiveRemittance_LandsInTheRoomItsReservationMade()
    {
        await RechargeAsync("held", 50_000);
        Assert.True((await Wallet().ReserveIncoming("rm-1", 50_000)).Accepted);

        Assert.Equal(100_000, await Wallet().ReceiveRemittance("rm-1", 50_000, Now));

        Assert.Equal(RechargeStatus.AboveTheBalanceCap, (await ReserveAsync("over", 10_000)).Status);
        Assert.False((await Wallet().ReserveIncoming("rm-2", 1)).Accepted);
    }

    [Fact]
    public async Task FindPayment_AnswersTheFirstOutcomeOfAKey_NullForAnUnusedOne_AndRefusesAnotherRequestsKey()
    {
        await RechargeAsync("funds", 30_000);
        var key = new OperationKey("pay-once", "payment:10000");
        var paid = await Wallet().Pay(new PaymentOrder("pay-1", "merchant-1", 10_000, 250, null, key.Id, Now), key);

        // Asked on a fresh activation too: the outcome comes from storage, not only from memory.
        await host.DeactivateAsync(Wallet());
        Assert.Equal(paid, await Wallet().FindPayment(key));
        Assert.Null(await Wallet().FindPayment(new OperationKey("never-used", "payment:10000")));
        await Assert.ThrowsAsync<OperationKeyReusedException>(() => Wallet().FindPayment(key with { RequestHash = "payment:20000" }));
    }
}
