using Microsoft.Extensions.DependencyInjection;
using MyPay.Grains.Banking;
using MyPay.Silo.Storage;

namespace MyPay.Grains.Tests;

public sealed class FirmbankingGrainTests : IAsyncLifetime
{
    private static readonly BankAccountNumber Member = new("004", "123-456");
    private static readonly BankAccountNumber Corporate = new("088", "100-000-000001");
    private readonly GrainHost host = new();

    public Task InitializeAsync() => host.StartAsync();

    public async Task DisposeAsync() => await host.DisposeAsync();

    private MemoryGrainStorage Storage => (MemoryGrainStorage)host.Services.GetRequiredService<IGrainStorage>();

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
    public async Task Execute_IndexesTheRequestForItsMember_OnceWithItsFirstWrite()
    {
        var grain = host.Grains.GetGrain<IFirmbankingGrain>("fb-indexed");
        var command = new FirmbankingCommand("m-indexed", "test", Member, Corporate, 10_000);

        var record = await grain.Execute(command);
        await grain.Execute(command);
        await grain.ResolveUnfinished();

        var rows = Storage.Records.OfType<FirmbankingIndexRow>().Where(row => row.RequestId == "fb-indexed").ToList();
        var row = Assert.Single(rows);
        Assert.Equal("m-indexed", row.MemberId);
        Assert.Equal(record.RequestedAt, row.CreatedAt);
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
        Assert.Equal(FirmbankingGrain.HistoryMax, record!.History.Count);
        Assert.Equal("requested", record.History[0].What);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public async Task Execute_NonPositiveAmount_IsRefusedAndRecordsNothing(long amountWon)
    {
        var grain = host.Grains.GetGrain<IFirmbankingGrain>("fb-3");

        await Assert.ThrowsAsync<ArgumentException>(() => grain.Execute(new FirmbankingCommand("m1", "test", Member, Corporate, amountWon)));
        Assert.Null(await grain.GetRecord());
    }

    [Fact]
    public async Task Execute_SameAccountBothSides_IsRefused()
    {
        var grain = host.Grains.GetGrain<IFirmbankingGrain>("fb-4");

        await Assert.ThrowsAsync<ArgumentException>(() => grain.Execute(new FirmbankingCommand("m1", "test", Member, Member, 10_000)));
    }

    [Fact]
    public async Task ResolveUnfinished_NeverRequested_IsNull()
    {
        Assert.Null(await host.Grains.GetGrain<IFirmbankingGrain>("fb-none").ResolveUnfinished());
    }
}
