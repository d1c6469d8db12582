using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using MyPay.Grains.Banking;
using MyPay.Grains.Money;
using MyPay.Silo.Grains;
using Orleans;

namespace MyPay.Grains.Tests;

/// <summary>The bank command tests' cluster: a bank that holds every transfer until the test lets it answer.</summary>
public sealed class SlowBankHost() : GrainHost(services => services.AddSingleton<SlowBank>().AddSingleton<IBankGateway>(provider => provider.GetRequiredService<SlowBank>()))
{
    public SlowBank Bank => Services.GetRequiredService<SlowBank>();
}

/// <summary>
/// A bank command has two drivers at once when the request that started it is still waiting for a slow bank and a
/// reminder tick resumes it (a wallet is reentrant, and Orleans fires a reminder again once a tick's call times out), or
/// when two ticks overlap. What keeps money moving once: a command the firmbanking grain writes is driven inside that
/// grain, which is not reentrant, so a second driver's call waits for the first to finish and then finds the outcome
/// recorded; a recharge's command, which its wallet writes, is driven with no grain (<c>BankCommandDriver.ExecuteRecordedAsync</c>),
/// and only the request's first drive sends blind: a resumed one asks the bank first, re-sending under the same id only
/// when the bank never had it, and the bank applies a request id once; the wallet's credit is keyed by the recharge, and a
/// release changes only a pending recharge. (A second activation of the grain on another node, should membership briefly
/// allow one, is held by the stored version: one that loaded no record loses its first write and sends nothing, one that
/// loaded Sent asks the bank before re-sending under the same id, and of two outcome writes the second is stale and
/// refused.) Making the firmbanking grain reentrant fails the first test; a resumed recharge sending blind fails the second.
/// </summary>
public sealed class BankCommandDriverTests(SlowBankHost host) : IClassFixture<SlowBankHost>
{
    private static readonly BankAccountNumber Member = new("004", "123-456");
    private static readonly BankAccountNumber Corporate = new("088", "100-000-000001");

    /// <summary>The name of the reminder a wallet resumes its recharges with.</summary>
    private const string ResumeReminder = "resume";

    [Fact]
    public async Task Execute_TwiceWhileTheBankIsSlow_SendsOnce_AndRecordsOneOutcome()
    {
        var requestId = $"fb-race-{Guid.NewGuid():N}";
        var grain = host.Grains.GetGrain<IFirmbankingGrain>(requestId);
        var command = new FirmbankingCommand("m-race", "test", Member, Corporate, 10_000);

        var first = grain.Execute(command);
        await host.Bank.WaitUntilReceivedAsync(requestId);
        var second = grain.Execute(command);
        var resumed = grain.ResolveUnfinished();
        await Task.Delay(200);
        Assert.False(second.IsCompleted, "A second driver must wait for the first, not act beside it.");
        host.Bank.Answer(requestId);

        var records = await Task.WhenAll(first, second, resumed!).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(1, host.Bank.TransfersReceived(requestId));
        Assert.All(records, record => Assert.Equal(FirmbankingStatus.Succeeded, record!.Status));
        Assert.Single(records[0]!.History, step => step.What == "succeeded");
        Assert.Equivalent(records[0], await grain.GetRecord(), strict: true);
    }

    [Fact]
    public async Task Recharge_DrivenByItsRequestAndByTheWalletsTick_AtOnce_MovesMoneyOnce_AndCreditsOnce()
    {
        var (wallet, pending) = await ReserveRechargeAsync(30_000);
        var memberId = pending.MemberId;

        // The request's driver (as the charge endpoint runs it) reaches the bank, which is slow; the wallet's reminder
        // ticks meanwhile, twice, as it would on a second node or after a tick's call timed out.
        var recharger = host.Services.GetRequiredService<Recharger>();
        var byRequest = recharger.FinishAsync(pending, resumed: false);
        await host.Bank.WaitUntilReceivedAsync(pending.FirmbankingRequestId);
        var reminders = wallet.AsReference<IRemindable>();
        var ticks = new[] { reminders.ReceiveReminder(ResumeReminder, default), reminders.ReceiveReminder(ResumeReminder, default) };
        await Task.Delay(200);
        host.Bank.Answer(pending.FirmbankingRequestId);

        var finished = await byRequest.WaitAsync(TimeSpan.FromSeconds(30));
        await Task.WhenAll(ticks).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(RechargeProgress.Succeeded, finished.Status);
        Assert.Equal(1, host.Bank.TransfersReceived(pending.FirmbankingRequestId));
        Assert.Equal(30_000, await wallet.GetBalance());
        Assert.Single(await host.Rows.JournalAsync(memberId), entry => entry.Kind == "recharge");
        var row = Assert.Single(await host.Rows.RechargesAsync(memberId));
        Assert.Equal(RechargeProgress.Succeeded, row.Status);
    }

    [Fact]
    public async Task Recharge_TheReservationIndexesTheBankCommandAsSent_AndTheWalletsCreditStoresTheBanksAnswer_TheFirmbankingGrainNothing()
    {
        var (wallet, pending) = await ReserveRechargeAsync(20_000);
        var memberId = pending.MemberId;

        // The reservation's own write says the command may be sent: an operator sees it in flight from then on.
        var reserved = Assert.Single(await host.Rows.FirmbankingIndexAsync(pending.FirmbankingRequestId));
        Assert.Equal((memberId, "recharge", 20_000L, FirmbankingStatus.Sent), (reserved.MemberId, reserved.Purpose, reserved.AmountWon, reserved.Status));
        Assert.Equal(FirmbankingStatus.Sent, (await host.Grains.GetGrain<IFirmbankingGrain>(pending.FirmbankingRequestId).GetRecord())!.Status);

        var finishing = host.Services.GetRequiredService<Recharger>().FinishAsync(pending, resumed: false);
        await host.Bank.WaitUntilReceivedAsync(pending.FirmbankingRequestId);
        host.Bank.Answer(pending.FirmbankingRequestId);

        // The wallet's credit wrote the bank's answer into the command's row, which is its whole record; the firmbanking
        // grain wrote no state at all.
        Assert.Equal(RechargeProgress.Succeeded, (await finishing.WaitAsync(TimeSpan.FromSeconds(30))).Status);
        Assert.Empty(await host.Rows.StateVersionsAsync(pending.FirmbankingRequestId));
        var answered = Assert.Single(await host.Rows.FirmbankingIndexAsync(pending.FirmbankingRequestId));
        Assert.Equal((FirmbankingStatus.Succeeded, 100L, Member), (answered.Status, answered.FeeWon, answered.From));
        var record = await host.Grains.GetGrain<IFirmbankingGrain>(pending.FirmbankingRequestId).GetRecord();
        Assert.Equal(["requested", "sent", "succeeded"], record!.History.Select(step => step.What));
        Assert.Equal((FirmbankingStatus.Succeeded, 100L, answered.CompletedAt), (record.Status, record.FeeWon, record.CompletedAt));
        Assert.Equal(20_000, await wallet.GetBalance());
        Assert.Single(await host.Rows.JournalAsync(memberId), entry => entry.Kind == "bank-fee");
    }

    [Fact]
    public async Task Recharge_ResumedAfterItsAnswerWasLost_AsksTheBankFirst_AndSendsNothingAgain()
    {
        // The first driver reached the bank, which answered, but the wallet never stored the answer (the node stopped),
        // and the wallet's reminder resumes the recharge.
        var (wallet, pending) = await ReserveRechargeAsync(30_000);
        var recharger = host.Services.GetRequiredService<Recharger>();
        host.Bank.Answer(pending.FirmbankingRequestId);
        var lost = await host.Services.GetRequiredService<BankCommandDriver>().ExecuteRecordedAsync(
            pending.FirmbankingRequestId, recharger.BankCommand(pending), resumed: false);
        Assert.Equal(FirmbankingStatus.Succeeded, lost.Status);

        var finished = await recharger.FinishAsync(pending, resumed: true);

        Assert.Equal(RechargeProgress.Succeeded, finished.Status);
        Assert.Equal(1, host.Bank.TransfersReceived(pending.FirmbankingRequestId));
        Assert.Equal(30_000, await wallet.GetBalance());
        Assert.Equal(FirmbankingStatus.Succeeded, Assert.Single(await host.Rows.FirmbankingIndexAsync(pending.FirmbankingRequestId)).Status);
    }

    /// <summary>A new member's wallet with a recharge of <paramref name="amountWon"/> reserved, as the charge endpoint reserves one.</summary>
    private async Task<(IWalletGrain Wallet, RechargeRecord Pending)> ReserveRechargeAsync(long amountWon)
    {
        var memberId = $"member-{Guid.NewGuid():N}";
        var rechargeId = $"rc{Guid.NewGuid():N}";
        var wallet = host.Grains.GetGrain<IWalletGrain>(memberId);
        var pending = new RechargeRecord(
            rechargeId, memberId, amountWon, Member, $"key-{rechargeId}", $"recharge:{rechargeId}", RechargeProgress.Pending, null, null, DateTimeOffset.UtcNow, null);
        Assert.Equal(RechargeStatus.Reserved, (await wallet.ReserveRecharge(pending, new OperationKey($"key-{rechargeId}", $"recharge:{amountWon}"))).Status);
        return (wallet, pending);
    }
}

/// <summary>
/// A bank that applies a request id at most once, as the real one does, and answers a transfer only when the test says
/// so; asked about a request it holds, it has no answer yet.
/// </summary>
public sealed class SlowBank : IBankGateway
{
    private readonly ConcurrentDictionary<string, int> received = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, TaskCompletionSource> answers = new(StringComparer.Ordinal);

    public int TransfersReceived(string requestId) => received.GetValueOrDefault(requestId);

    public void Answer(string requestId) => Gate(requestId).TrySetResult();

    public async Task WaitUntilReceivedAsync(string requestId)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (TransfersReceived(requestId) == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, $"The bank did not receive {requestId} within 10 s.");
            await Task.Delay(10);
        }
    }

    public Task<AccountLookup> LookUpAccountAsync(BankAccountNumber account, CancellationToken cancellationToken) =>
        Task.FromResult(new AccountLookup(AccountLookupStatus.Open, "김민수"));

    public async Task<TransferOutcome> TransferAsync(BankTransfer transfer, CancellationToken cancellationToken)
    {
        received.AddOrUpdate(transfer.RequestId, 1, (_, count) => count + 1);
        await Gate(transfer.RequestId).Task;
        return new TransferOutcome(TransferStatus.Succeeded, null, FeeWon: 100);
    }

    public Task<TransferOutcome> GetTransferAsync(string requestId, CancellationToken cancellationToken) => Task.FromResult(
        TransfersReceived(requestId) == 0 ? new TransferOutcome(TransferStatus.NotFound, null)
        : Gate(requestId).Task.IsCompleted ? new TransferOutcome(TransferStatus.Succeeded, null, FeeWon: 100)
        : TransferOutcome.Unanswered("still working on it"));

    public Task<CorporateStatement?> GetCorporateStatementAsync(CancellationToken cancellationToken) => Task.FromResult<CorporateStatement?>(null);

    private TaskCompletionSource Gate(string requestId) =>
        answers.GetOrAdd(requestId, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
}
