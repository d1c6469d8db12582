using Microsoft.Extensions.DependencyInjection;
using MyPay.Grains.Banking;

namespace MyPay.Grains.Tests;

// The tests share one cluster and database; each uses request ids of its own.
public sealed class FirmbankingGrainTests(GrainHost host) : IClassFixture<GrainHost>
{
    private static readonly BankAccountNumber Member = new("004", "123-456");
    private static readonly BankAccountNumber Corporate = new("088", "100-000-000001");

    [Fact]
    public async Task Execute_BankNeverAnswers_IsUnknownNeverFailed_AndKeepsItsHistory()
    {
        var grain = host.Grains.GetGrain<IFirmbankingGrain>("fb-1");

        var record = await grain.Execute(new FirmbankingCommand("m1", "test", Member, Corporate, 10_000));

        Assert.Equal(FirmbankingStatus.Unknown, record.Status);
        Assert.Null(record.CompletedAt);
        Assert.Equal(0, record.FeeWon);
        Assert.Equal("requested", record.History[0].What);
        Assert.Equal("sent", record.History[1].What);
        Assert.Equivalent(record, await grain.GetRecord(), strict: true);
    }

    [Fact]
    public async Task Execute_IndexesTheRequestForItsMember_Once_WithItsStatusAfterEachWrite()
    {
        var grain = host.Grains.GetGrain<IFirmbankingGrain>("fb-indexed");
        var command = new FirmbankingCommand("m-indexed", "test", Member, Corporate, 10_000);

        var record = await grain.Execute(command);
        await grain.Execute(command);
        await grain.ResolveUnfinished();

        var row = Assert.Single(await host.Rows.FirmbankingIndexAsync("fb-indexed"));
        Assert.Equal("m-indexed", row.MemberId);
        Assert.Equal(("test", 10_000L), (row.Purpose, row.AmountWon));
        Assert.Equal(FirmbankingStatus.Unknown, row.Status);
        Assert.Null(row.CompletedAt);
        // PostgreSQL keeps microseconds; the grain's clock has ticks of 100 ns.
        Assert.Equal(record.RequestedAt, row.CreatedAt, TimeSpan.FromMicroseconds(1));
    }

    [Fact]
    public async Task ResolveUnfinished_History_StaysBounded()
    {
        var grain = host.Grains.GetGrain<IFirmbankingGrain>("fb-2");
        await grain.Execute(new FirmbankingCommand("m1", "test", Member, Corporate, 10_000));

        for (var i = 0; i < 20; i++)
        {
            await grain.ResolveUnfinished();
        }

        var record = await grain.GetRecord();
        Assert.Equal(FirmbankingRecord.HistoryMax, record!.History.Count);
        Assert.Equal("requested", record.History[0].What);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public async Task Execute_NonPositiveAmount_FailsWithItsReason_NeverSentNorRecorded(long amountWon)
    {
        // A business outcome, not an exception (callers used to catch ArgumentException to give back what they held).
        var grain = host.Grains.GetGrain<IFirmbankingGrain>($"fb-3-{-amountWon}");
        var command = new FirmbankingCommand("m1", "test", Member, Corporate, amountWon);

        var record = await grain.Execute(command);
        var repeated = await grain.Execute(command);

        Assert.Equal(FirmbankingStatus.Failed, record.Status);
        Assert.Contains($"never sent to the bank: a bank command moves a positive amount between two accounts; got {amountWon} won", record.FailureReason, StringComparison.Ordinal);
        Assert.Equal(["requested", $"failed: {record.FailureReason}"], record.History.Select(step => step.What));
        Assert.Equal((FirmbankingStatus.Failed, record.FailureReason), (repeated.Status, repeated.FailureReason));
        Assert.Null(await grain.GetRecord());
    }

    [Fact]
    public async Task ARecordedCommandNoBankCouldCarryOut_FailsUnsent_AndWritesNothing()
    {
        var driver = host.Services.GetRequiredService<BankCommandDriver>();

        var record = await driver.ExecuteRecordedAsync("fb-recorded-same-account", new FirmbankingCommand("m1", "recharge", Member, Member, 10_000), resumed: false);

        Assert.Equal(FirmbankingStatus.Failed, record.Status);
        Assert.Contains($"from {Member} to {Member}", record.FailureReason, StringComparison.Ordinal);
        Assert.Null(await host.Grains.GetGrain<IFirmbankingGrain>("fb-recorded-same-account").GetRecord());
        Assert.Empty(await host.Rows.StateVersionsAsync("fb-recorded-same-account"));
    }

    [Fact]
    public async Task ARecordedCommand_BankNeverAnswers_IsUnknown_WritesNothing_AndAResumeAsksTheBankAgain()
    {
        // The caller writes the command's steps; while the bank is silent there is nothing to write, and the caller resumes it.
        var driver = host.Services.GetRequiredService<BankCommandDriver>();
        var command = new FirmbankingCommand("m1", "recharge", Member, Corporate, 10_000);

        var first = await driver.ExecuteRecordedAsync("fb-recorded-silent", command, resumed: false);
        var resumed = await driver.ExecuteRecordedAsync("fb-recorded-silent", command, resumed: true);

        Assert.Equal((FirmbankingStatus.Unknown, FirmbankingStatus.Unknown), (first.Status, resumed.Status));
        Assert.Equal(["requested", "sent", "no answer"], first.History.Select(step => step.What[..Math.Min(step.What.Length, 9)]).Distinct());
        Assert.Null(await host.Grains.GetGrain<IFirmbankingGrain>("fb-recorded-silent").GetRecord());
        Assert.Empty(await host.Rows.StateVersionsAsync("fb-recorded-silent"));
    }

    [Fact]
    public async Task Execute_SameAccountBothSides_FailsWithItsReason_NeverSent()
    {
        var grain = host.Grains.GetGrain<IFirmbankingGrain>("fb-4");

        var record = await grain.Execute(new FirmbankingCommand("m1", "test", Member, Member, 10_000));

        Assert.Equal(FirmbankingStatus.Failed, record.Status);
        Assert.Equal(0, record.FeeWon);
        Assert.Contains($"from {Member} to {Member}", record.FailureReason, StringComparison.Ordinal);
        Assert.Null(await grain.GetRecord());
    }

    [Fact]
    public async Task ResolveUnfinished_NeverRequested_IsNull()
    {
        Assert.Null(await host.Grains.GetGrain<IFirmbankingGrain>("fb-none").ResolveUnfinished());
    }
}
