using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using MyPay.Grains.Banking;
using IGrainFactory = Orleans.IGrainFactory;

namespace MyPay.Api.Tests;

/// <summary>
/// Bank commands through firmbanking grains, against the real bank simulator. Commands are issued
/// straight to the grains (recharges and remittances, which issue them in production, come later);
/// outcomes are read back over HTTP and checked against the bank's own records.
/// </summary>
public sealed class FirmbankingTests(BankFixture fixture) : IClassFixture<BankFixture>, IAsyncLifetime
{
    private static readonly BankAccountNumber Corporate = new("088", "100-000-000001");
    private MyPayApp app = null!;

    public async Task InitializeAsync()
    {
        await fixture.ClearFaultsAsync();
        app = new MyPayApp(fixture.Database.ConnectionString, fixture.Bank.BaseAddress);
        (await app.CreateReadyClientAsync()).Dispose();
    }

    public async Task DisposeAsync()
    {
        await fixture.ClearFaultsAsync();
        await app.DisposeAsync();
    }

    private IFirmbankingGrain Request(string requestId) => app.Services.GetRequiredService<IGrainFactory>().GetGrain<IFirmbankingGrain>(requestId);

    private static string NewRequestId() => $"fb-{Guid.NewGuid():N}";

    private async Task<long> CorporateBalanceAsync() =>
        (await fixture.Bank.Client.GetFromJsonAsync<JsonElement>("/corporate")).GetProperty("balance").GetInt64();

    [Fact]
    public async Task Execute_Funded_SucceedsOnceWithFee_AndIsVisibleToTheMemberAndOperator()
    {
        var member = await app.RegisterAsync(name: "김민준");
        var (bankCode, accountNumber) = await fixture.OpenAccountAsync("김민준", 100_000);
        var corporateBefore = await CorporateBalanceAsync();
        var requestId = NewRequestId();
        var command = new FirmbankingCommand(member.Id, "test", new BankAccountNumber(bankCode, accountNumber), Corporate, 30_000);

        var record = await Request(requestId).Execute(command);
        var repeated = await Request(requestId).Execute(command);

        Assert.Equal(FirmbankingStatus.Succeeded, record.Status);
        Assert.Equal(300, record.FeeWon);
        Assert.Equivalent(record, repeated, strict: true);
        Assert.Equal(70_000, await fixture.BalanceAsync(bankCode, accountNumber));
        Assert.Equal(corporateBefore + 30_000 - record.FeeWon, await CorporateBalanceAsync());
        Assert.Equal(["requested", "sent", "succeeded"], record.History.Select(step => step.What));

        var seen = await member.Client.GetFromJsonAsync<JsonElement>($"/v1/firmbanking/{requestId}");
        Assert.Equal("succeeded", seen.GetProperty("status").GetString());
        Assert.Equal(30_000, seen.GetProperty("amount").GetInt64());
        var listed = await member.Client.GetFromJsonAsync<JsonElement[]>($"/v1/members/{member.Id}/firmbanking");
        Assert.Equal(requestId, Assert.Single(listed!).GetProperty("requestId").GetString());
        using var operatorClient = await app.OperatorAsync();
        using var operatorView = await operatorClient.GetAsync(new Uri($"/v1/firmbanking/{requestId}", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, operatorView.StatusCode);
    }

    [Fact]
    public async Task Get_AnotherMembersRequest_Is404()
    {
        var member = await app.RegisterAsync(name: "이서연");
        var stranger = await app.RegisterAsync();
        var (bankCode, accountNumber) = await fixture.OpenAccountAsync("이서연", 50_000);
        var requestId = NewRequestId();
        await Request(requestId).Execute(new FirmbankingCommand(member.Id, "test", new BankAccountNumber(bankCode, accountNumber), Corporate, 10_000));

        using var response = await stranger.Client.GetAsync(new Uri($"/v1/firmbanking/{requestId}", UriKind.Relative));
        using var unknown = await member.Client.GetAsync(new Uri("/v1/firmbanking/no-such-request", UriKind.Relative));

        await response.AssertProblemAsync(404);
        await unknown.AssertProblemAsync(404);
    }

    [Fact]
    public async Task Execute_InsufficientFunds_FailsWithTheBanksReason_AndMovesNothing()
    {
        var member = await app.RegisterAsync();
        var (bankCode, accountNumber) = await fixture.OpenAccountAsync("김민수", 5_000);

        var record = await Request(NewRequestId()).Execute(new FirmbankingCommand(member.Id, "test", new BankAccountNumber(bankCode, accountNumber), Corporate, 10_000));

        Assert.Equal(FirmbankingStatus.Failed, record.Status);
        Assert.Equal("insufficient-funds", record.FailureReason);
        Assert.Equal(0, record.FeeWon);
        Assert.Equal(5_000, await fixture.BalanceAsync(bankCode, accountNumber));
    }

    [Fact]
    public async Task Execute_SameIdOtherCommand_IsRefused()
    {
        var member = await app.RegisterAsync();
        var (bankCode, accountNumber) = await fixture.OpenAccountAsync("김민수", 50_000);
        var requestId = NewRequestId();
        var account = new BankAccountNumber(bankCode, accountNumber);
        await Request(requestId).Execute(new FirmbankingCommand(member.Id, "test", account, Corporate, 10_000));

        await Assert.ThrowsAsync<FirmbankingRequestReusedException>(() => Request(requestId).Execute(new FirmbankingCommand(member.Id, "test", account, Corporate, 20_000)));
        Assert.Equal(40_000, await fixture.BalanceAsync(bankCode, accountNumber));
    }

    [Fact]
    public async Task Execute_BankDown_StaysUnknownNeverFailed_AndResolvesWhenTheBankReturns()
    {
        var member = await app.RegisterAsync();
        var (bankCode, accountNumber) = await fixture.OpenAccountAsync("김민수", 50_000, bankCode: "020");
        await fixture.SetFaultsAsync("020", errorRate: 1);
        var requestId = NewRequestId();

        var whileDown = await Request(requestId).Execute(new FirmbankingCommand(member.Id, "test", new BankAccountNumber(bankCode, accountNumber), Corporate, 10_000));
        await fixture.ClearFaultsAsync();
        var resolved = await Request(requestId).ResolveUnfinished();

        Assert.Equal(FirmbankingStatus.Unknown, whileDown.Status);
        Assert.Equal(FirmbankingStatus.Succeeded, resolved!.Status);
        Assert.Equal(40_000, await fixture.BalanceAsync(bankCode, accountNumber));
    }

    [Theory]
    [InlineData(429)]
    [InlineData(408)]
    public async Task Execute_BankThrottlesOrTimesOutEveryRetry_IsUnknownNotAnError_AndResolvesByAskingTheBank(int errorStatus)
    {
        // 429 and 408 left after the retries are "no answer yet", as a 503 is: the command stays Unknown (a recharge answers
        // 202), and asking the bank for the request id later settles it. They used to throw, which became a 500.
        var member = await app.RegisterAsync();
        var (bankCode, accountNumber) = await fixture.OpenAccountAsync("김민수", 50_000, bankCode: "020");
        await fixture.SetFaultsAsync("020", errorRate: 1, errorStatus: errorStatus);
        var requestId = NewRequestId();

        var whileThrottled = await Request(requestId).Execute(new FirmbankingCommand(member.Id, "test", new BankAccountNumber(bankCode, accountNumber), Corporate, 10_000));
        await fixture.ClearFaultsAsync();
        var resolved = await Request(requestId).ResolveUnfinished();

        Assert.Equal(FirmbankingStatus.Unknown, whileThrottled.Status);
        Assert.Contains($"the bank answered {errorStatus}", whileThrottled.History[^1].What, StringComparison.Ordinal);
        Assert.Equal(FirmbankingStatus.Succeeded, resolved!.Status);
        Assert.Equal(40_000, await fixture.BalanceAsync(bankCode, accountNumber));
    }

    [Fact]
    public async Task Recharge_BankThrottlesEveryRetry_Answers202NotA500()
    {
        var member = await fixture.FundedMemberAsync(app, bankBalanceWon: 100_000, bankCode: "020");
        await fixture.SetFaultsAsync("020", errorRate: 1, errorStatus: 429);

        using var response = await member.Client.RechargeAsync(member.Id, 10_000, $"throttled-{Guid.NewGuid():N}");

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
    }

    [Fact]
    public async Task ManyRequests_UnderErrorsAndLostResponses_EndFinal_MoveMoneyOnce_AndMatchTheBank()
    {
        // 30% of bank answers are errors (nothing applied) and 10% are lost (applied, answer dropped).
        // Every request must end succeeded or failed, the bank must hold each id's money movement once,
        // and MyPay's recorded outcome must equal the bank's for every request id.
        const int Requests = 300;

        // One retry per bank call instead of three: a call is then left without an answer (a "no answer" round,
        // resolved later) about one time in six instead of one in forty, so every run exercises that path.
        await app.DisposeAsync();
        app = new MyPayApp(fixture.Database.ConnectionString, fixture.Bank.BaseAddress, new Dictionary<string, string> { ["Bank:RetriesMax"] = "1" });
        (await app.CreateReadyClientAsync()).Dispose();
        var member = await app.RegisterAsync(name: "박지호");
        var accounts = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => fixture.OpenAccountAsync("박지호", 1_000_000, bankCode: "090")));
        var corporateBefore = await CorporateBalanceAsync();
        await fixture.SetFaultsAsync("090", errorRate: 0.3, lostResponseRate: 0.1);

        // Some requests ask for more than the account holds, so the bank's refusals are exercised too.
        var commands = Enumerable.Range(0, Requests).Select(i => (
            RequestId: NewRequestId(),
            Command: new FirmbankingCommand(member.Id, "test", new BankAccountNumber(accounts[i % 10].BankCode, accounts[i % 10].AccountNumber), Corporate, i % 7 == 0 ? 2_000_000 : 10_000)))
            .ToArray();
        var records = await Task.WhenAll(commands.Select(request => Request(request.RequestId).Execute(request.Command)));

        // What a reminder does for requests left without an answer: resume them, boundedly.
        for (var pass = 0; pass < 20 && records.Any(record => !record.IsFinal); pass++)
        {
            records = await Task.WhenAll(records.Select(async record => record.IsFinal ? record : (await Request(record.RequestId).ResolveUnfinished())!));
        }

        await fixture.ClearFaultsAsync();
        Assert.All(records, record => Assert.True(record.IsFinal, $"{record.RequestId} ended {record.Status}."));
        foreach (var record in records)
        {
            var atBank = await fixture.Bank.Client.GetFromJsonAsync<JsonElement>($"/transfers/{record.RequestId}");
            Assert.Equal(record.Status == FirmbankingStatus.Succeeded ? "succeeded" : "failed", atBank.GetProperty("status").GetString());
        }

        var succeededWon = records.Where(record => record.Status == FirmbankingStatus.Succeeded).Sum(record => record.Command.AmountWon);
        Assert.Equal(corporateBefore + succeededWon - records.Sum(record => record.FeeWon), await CorporateBalanceAsync());
        var remainingWon = 0L;
        foreach (var (bankCode, accountNumber) in accounts)
        {
            remainingWon += await fixture.BalanceAsync(bankCode, accountNumber);
        }

        Assert.Equal((10 * 1_000_000) - succeededWon, remainingWon);
        Assert.Contains(records, record => record.Status == FirmbankingStatus.Failed);
        Assert.Contains(records, record => record.History.Any(step => step.What.StartsWith("no answer", StringComparison.Ordinal)));
    }
}
