using Microsoft.Extensions.DependencyInjection;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace MyPay.Api.Tests;

/// <summary>The charge endpoint and the wallet, with money moved by the real bank simulator.</summary>
public sealed class WalletTests(BankFixture fixture) : IClassFixture<BankFixture>, IAsyncLifetime
{
    private MyPayApp app = null!;

    public async Task InitializeAsync()
    {
        await fixture.ClearFaultsAsync();
        app = new MyPayApp(fixture.Database.ConnectionString, fixture.Bank.BaseAddress, new Dictionary<string, string>
        {
            ["Recharge:ResumeInterval"] = "00:00:01",
            ["Recharge:SynchronousWait"] = "00:00:05",
        });
        (await app.CreateReadyClientAsync()).Dispose();
    }

    public async Task DisposeAsync()
    {
        await fixture.ClearFaultsAsync();
        await app.DisposeAsync();
    }

    [Fact]
    public async Task GetWallet_NewMember_HasZeroBalance()
    {
        var member = await app.RegisterAsync();

        Assert.Equal(0, await member.Client.BalanceAsync(member.Id));
    }

    [Fact]
    public async Task Recharge_MovesMoneyAtTheBankAndCredits()
    {
        var member = await fixture.FundedMemberAsync(app, bankBalanceWon: 500_000);
        var corporateBefore = await fixture.CorporateBalanceAsync();

        using var first = await member.Client.RechargeAsync(member.Id, 30_000, "k1");
        using var second = await member.Client.RechargeAsync(member.Id, 50_000, "k2");

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        var body = await first.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(30_000, body.GetProperty("balance").GetInt64());
        Assert.Equal("succeeded", body.GetProperty("status").GetString());
        Assert.Equal(80_000, (await second.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("balance").GetInt64());
        Assert.Equal(80_000, await member.Client.BalanceAsync(member.Id));
        Assert.Equal(500_000 - 80_000, await fixture.BalanceAsync(member.BankCode!, member.AccountNumber!));
        Assert.Equal(corporateBefore + 80_000 - 600, await fixture.CorporateBalanceAsync());
    }

    [Fact]
    public async Task Recharge_SameKeyAndBody_ReturnsFirstResponseAndMovesMoneyOnce()
    {
        var member = await fixture.FundedMemberAsync(app, bankBalanceWon: 500_000);
        using var first = await member.Client.RechargeAsync(member.Id, 10_000, "same");
        using var between = await member.Client.RechargeAsync(member.Id, 20_000, "other");

        using var repeat = await member.Client.RechargeAsync(member.Id, 10_000, "same");

        Assert.Equal(HttpStatusCode.OK, repeat.StatusCode);
        Assert.Equal(await first.Content.ReadAsStringAsync(), await repeat.Content.ReadAsStringAsync());
        Assert.Equal(30_000, await member.Client.BalanceAsync(member.Id));
        Assert.Equal(500_000 - 30_000, await fixture.BalanceAsync(member.BankCode!, member.AccountNumber!));
    }

    [Fact]
    public async Task Recharge_SameKeyConcurrently_OneEffectAndAllAnswersAlike()
    {
        var member = await fixture.FundedMemberAsync(app, bankBalanceWon: 500_000);

        var responses = await Task.WhenAll(Enumerable.Range(0, 30).Select(_ => member.Client.RechargeAsync(member.Id, 10_000, "burst")));

        var bodies = await Task.WhenAll(responses.Select(response => response.Content.ReadAsStringAsync()));
        Assert.All(responses, response => Assert.Equal(HttpStatusCode.OK, response.StatusCode));
        Assert.Single(bodies.Distinct());
        Assert.Equal(10_000, await member.Client.BalanceAsync(member.Id));
        Assert.Equal(490_000, await fixture.BalanceAsync(member.BankCode!, member.AccountNumber!));
    }

    [Fact]
    public async Task Recharge_SameKeyOtherBody_Is422AndChangesNothing()
    {
        var member = await fixture.FundedMemberAsync(app);
        using var first = await member.Client.RechargeAsync(member.Id, 10_000, "reused");

        using var reused = await member.Client.RechargeAsync(member.Id, 20_000, "reused");

        Assert.EndsWith("idempotency-key-reused", (await reused.AssertProblemAsync(422)).ProblemType(), StringComparison.Ordinal);
        Assert.Equal(10_000, await member.Client.BalanceAsync(member.Id));
    }

    [Fact]
    public async Task Recharge_AboveBalanceCap_Is422AndTheBankAccountIsUntouched()
    {
        var member = await fixture.FundedMemberAsync(app, bankBalanceWon: 5_000_000);
        using var fill = await member.Client.RechargeAsync(member.Id, 1_990_000, "fill");

        using var over = await member.Client.RechargeAsync(member.Id, 20_000, "over");

        Assert.EndsWith("balance-cap-exceeded", (await over.AssertProblemAsync(422)).ProblemType(), StringComparison.Ordinal);
        Assert.Equal(1_990_000, await member.Client.BalanceAsync(member.Id));
        Assert.Equal(5_000_000 - 1_990_000, await fixture.BalanceAsync(member.BankCode!, member.AccountNumber!));
    }

    [Fact]
    public async Task Recharge_BankRefuses_Is422AndNothingIsCredited()
    {
        var member = await fixture.FundedMemberAsync(app, bankBalanceWon: 5_000);

        using var response = await member.Client.RechargeAsync(member.Id, 10_000, "poor");

        var problem = await response.AssertProblemAsync(422);
        Assert.EndsWith("bank-refused", problem.ProblemType(), StringComparison.Ordinal);
        Assert.Contains("insufficient-funds", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, await member.Client.BalanceAsync(member.Id));
        Assert.Equal(5_000, await fixture.BalanceAsync(member.BankCode!, member.AccountNumber!));

        // The refused reservation no longer counts against the cap.
        using var check = await member.Client.GetAsync(new Uri($"/v1/members/{member.Id}/wallet/history", UriKind.Relative));
        Assert.Empty((await check.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("items").EnumerateArray());
    }

    [Fact]
    public async Task Recharge_WithoutLinkedAccount_Is422()
    {
        var member = await app.RegisterAsync();

        using var response = await member.Client.RechargeAsync(member.Id, 10_000, "unlinked");

        Assert.EndsWith("no-linked-bank-account", (await response.AssertProblemAsync(422)).ProblemType(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Recharge_LostBankAnswers_Is202ThenResolvedByStatusQueryAndCreditedOnce()
    {
        // Every answer from the member's bank is lost (the transfer applies, the answer never arrives), so the
        // request cannot finish in time: 202 with the recharge's address. Once answers flow again, the
        // recharge's durable reminder resumes it: a status query by the same id finds the transfer, and the
        // wallet is credited exactly once.
        var member = await fixture.FundedMemberAsync(app, bankBalanceWon: 100_000);
        await fixture.SetFaultsAsync(member.BankCode!, lostResponseRate: 1);

        using var response = await member.Client.RechargeAsync(member.Id, 30_000, "lost");

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var location = response.Headers.Location!.OriginalString;
        Assert.StartsWith("/v1/recharges/", location, StringComparison.Ordinal);
        await fixture.ClearFaultsAsync();
        var recharge = await PollAsync(member.Client, location, status => status != "pending");
        Assert.Equal("succeeded", recharge.GetProperty("status").GetString());
        Assert.Equal(30_000, recharge.GetProperty("balance").GetInt64());
        Assert.Equal(30_000, await member.Client.BalanceAsync(member.Id));
        Assert.Equal(70_000, await fixture.BalanceAsync(member.BankCode!, member.AccountNumber!));
        await WaitUntilDisarmedAsync(member.Id);

        // The same request again answers with the finished recharge.
        using var repeat = await member.Client.RechargeAsync(member.Id, 30_000, "lost");
        Assert.Equal(HttpStatusCode.OK, repeat.StatusCode);
        Assert.Equal(30_000, await member.Client.BalanceAsync(member.Id));
    }

    [Fact]
    public async Task Recharge_Status_IsVisibleToItsMemberAndOperatorsOnly()
    {
        var member = await fixture.FundedMemberAsync(app);
        var stranger = await app.RegisterAsync();
        using var response = await member.Client.RechargeAsync(member.Id, 10_000, "seen");
        var rechargeId = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("rechargeId").GetString();
        using var operatorClient = await app.OperatorAsync();

        using var own = await member.Client.GetAsync(new Uri($"/v1/recharges/{rechargeId}", UriKind.Relative));
        using var other = await stranger.Client.GetAsync(new Uri($"/v1/recharges/{rechargeId}", UriKind.Relative));
        using var byOperator = await operatorClient.GetAsync(new Uri($"/v1/recharges/{rechargeId}", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, own.StatusCode);
        await other.AssertProblemAsync(404);
        Assert.Equal(HttpStatusCode.OK, byOperator.StatusCode);
    }

    [Fact]
    public async Task History_IsNewestFirst_KeysetPaged_WithBalanceAfterAndRequestId()
    {
        var member = await fixture.FundedMemberAsync(app);
        foreach (var (amountWon, key) in new[] { (10_000L, "h1"), (20_000L, "h2"), (30_000L, "h3") })
        {
            using var recharged = await member.Client.RechargeAsync(member.Id, amountWon, key);
            recharged.EnsureSuccessStatusCode();
        }

        var first = await member.Client.GetFromJsonAsync<JsonElement>($"/v1/members/{member.Id}/wallet/history?limit=2");
        var cursor = first.GetProperty("nextCursor").GetString();
        var second = await member.Client.GetFromJsonAsync<JsonElement>($"/v1/members/{member.Id}/wallet/history?limit=2&cursor={cursor}");

        var items = first.GetProperty("items").EnumerateArray().Concat(second.GetProperty("items").EnumerateArray()).ToList();
        Assert.Equal([30_000L, 20_000L, 10_000L], items.Select(item => item.GetProperty("amount").GetInt64()));
        Assert.Equal([60_000L, 30_000L, 10_000L], items.Select(item => item.GetProperty("balanceAfter").GetInt64()));
        Assert.Equal(["h3", "h2", "h1"], items.Select(item => item.GetProperty("idempotencyKey").GetString()));
        Assert.All(items, item => Assert.Equal("recharge", item.GetProperty("kind").GetString()));
        Assert.All(items, item => Assert.StartsWith("rc", item.GetProperty("requestId").GetString(), StringComparison.Ordinal));
        Assert.Equal(JsonValueKind.Null, second.GetProperty("nextCursor").ValueKind);
    }

    [Theory]
    [InlineData("limit=0")]
    [InlineData("limit=101")]
    [InlineData("limit=abc")]
    [InlineData("cursor=-5")]
    [InlineData("cursor=abc")]
    public async Task History_BadPaging_Is400(string query)
    {
        var member = await app.RegisterAsync();

        using var response = await member.Client.GetAsync(new Uri($"/v1/members/{member.Id}/wallet/history?{query}", UriKind.Relative));

        await response.AssertProblemAsync(400);
    }

    [Fact]
    public async Task LedgerCheck_AfterRecharges_IsConsistentAndMatchesTheBank()
    {
        var member = await fixture.FundedMemberAsync(app);
        for (var i = 0; i < 5; i++)
        {
            using var recharged = await member.Client.RechargeAsync(member.Id, 10_000, $"check-{i}");
            recharged.EnsureSuccessStatusCode();
        }

        using var operatorClient = await app.OperatorAsync();
        var check = await PollAsync(operatorClient, "/v1/ledger/check", _ => true, property: "consistent");

        Assert.True(check.GetProperty("consistent").GetBoolean(), check.ToString());
        Assert.Equal(0, check.GetProperty("total").GetInt64());
        Assert.True(check.GetProperty("corporateMatchesBank").GetBoolean(), check.ToString());
        Assert.Equal(check.GetProperty("bankCorporateBalance").GetInt64(), check.GetProperty("corporateCash").GetInt64());

        using var byMember = await member.Client.GetAsync(new Uri("/v1/ledger/check", UriKind.Relative));
        await byMember.AssertProblemAsync(403);
    }

    [Fact]
    public async Task Recharge_ThousandConcurrentDistinctKeys_ExactBalanceAndBalancedLedger()
    {
        await using var roomy = new MyPayApp(fixture.Database.ConnectionString, fixture.Bank.BaseAddress, new Dictionary<string, string>
        {
            ["Wallet:BalanceCapWon"] = "100000000",
        });
        (await roomy.CreateReadyClientAsync()).Dispose();
        var member = await fixture.FundedMemberAsync(roomy, bankBalanceWon: 50_000_000);

        var responses = await Task.WhenAll(Enumerable.Range(0, 1_000).Select(i => member.Client.RechargeAsync(member.Id, 10_000, $"many-{i}")));

        Assert.All(responses, response => Assert.Equal(HttpStatusCode.OK, response.StatusCode));
        Assert.Equal(10_000_000, await member.Client.BalanceAsync(member.Id));
        Assert.Equal(40_000_000, await fixture.BalanceAsync(member.BankCode!, member.AccountNumber!));
        using var operatorClient = await roomy.OperatorAsync();
        var check = await operatorClient.GetFromJsonAsync<JsonElement>("/v1/ledger/check");
        Assert.True(check.GetProperty("consistent").GetBoolean(), check.ToString());
    }

    [Theory]
    [InlineData("""{"amount":0}""", 400)]
    [InlineData("""{"amount":-10000}""", 400)]
    [InlineData("""{"amount":12345}""", 400)]
    [InlineData("""{"amount":3000000}""", 422)]
    [InlineData("""{"amount":99999999999999999999999}""", 400)]
    [InlineData("""{"amount":"10000"}""", 400)]
    [InlineData("""{"amount":10000.5}""", 400)]
    [InlineData("""{"amount":""", 400)]
    [InlineData("""not json""", 400)]
    [InlineData("""[]""", 400)]
    [InlineData("""null""", 400)]
    public async Task Recharge_BadBody_IsProblemAndChangesNothing(string body, int status)
    {
        var member = await fixture.FundedMemberAsync(app, bankBalanceWon: 1_000_000);
        using var seed = await member.Client.RechargeAsync(member.Id, 10_000, "seed");

        using var response = await member.Client.RechargeAsync(member.Id, body, "bad");

        await response.AssertProblemAsync(status);
        Assert.Equal(10_000, await member.Client.BalanceAsync(member.Id));
        Assert.Equal(990_000, await fixture.BalanceAsync(member.BankCode!, member.AccountNumber!));

        // The key was not consumed by the bad request: a valid request may still use it.
        using var valid = await member.Client.RechargeAsync(member.Id, 10_000, "bad");
        Assert.Equal(HttpStatusCode.OK, valid.StatusCode);
    }

    [Fact]
    public async Task Recharge_HugeBody_Is413Problem()
    {
        var member = await fixture.FundedMemberAsync(app);
        var body = $$"""{"amount":{{new string('1', 200 * 1024)}}}""";

        using var response = await member.Client.RechargeAsync(member.Id, body, "huge");

        await response.AssertProblemAsync(413);
        Assert.Equal(0, await member.Client.BalanceAsync(member.Id));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("has space")]
    [InlineData("한글키")]
    public async Task Recharge_MissingOrMalformedKey_Is400(string? key)
    {
        var member = await fixture.FundedMemberAsync(app);

        using var response = await member.Client.RechargeAsync(member.Id, 10_000, key);

        Assert.EndsWith("idempotency-key-required", (await response.AssertProblemAsync(400)).ProblemType(), StringComparison.Ordinal);
        Assert.Equal(0, await member.Client.BalanceAsync(member.Id));
    }

    [Fact]
    public async Task Recharge_KeyLongerThan200_Is400()
    {
        var member = await fixture.FundedMemberAsync(app);

        using var response = await member.Client.RechargeAsync(member.Id, 10_000, new string('k', 201));

        await response.AssertProblemAsync(400);
    }

    [Fact]
    public async Task Recharge_WhenSuspended_Is403AndMovesNothing()
    {
        var member = await fixture.FundedMemberAsync(app, bankBalanceWon: 100_000);
        using var operatorClient = await app.OperatorAsync();
        using var suspended = await operatorClient.PatchAsJsonAsync($"/v1/members/{member.Id}", new { status = "suspended" });

        using var response = await member.Client.RechargeAsync(member.Id, 10_000, "suspended");

        await response.AssertProblemAsync(403);
        Assert.Equal(100_000, await fixture.BalanceAsync(member.BankCode!, member.AccountNumber!));
    }

    [Theory]
    [InlineData("bad%20id")]
    [InlineData("a.b")]
    public async Task Wallet_InvalidMemberId_Is400(string memberId)
    {
        var member = await app.RegisterAsync();

        using var response = await member.Client.GetAsync(new Uri($"/v1/members/{memberId}/wallet", UriKind.Relative));

        await response.AssertProblemAsync(400);
    }

    [Fact]
    public async Task Recharges_ShareTheWalletsOneReminder_ArmedOnceWhileTheyCome()
    {
        // Goal: the wallet arms its reminder before the first reservation and keeps it for those after: no reminder of
        // a recharge's own, and no registration per recharge (the row's version would change). Ticks here come a
        // minute apart, so none disarms it between the recharges.
        await using var patient = new MyPayApp(fixture.Database.ConnectionString, fixture.Bank.BaseAddress, new Dictionary<string, string>
        {
            ["Recharge:ResumeInterval"] = "00:01:00",
        });
        var member = await fixture.FundedMemberAsync(patient, bankBalanceWon: 100_000);
        var versions = new List<int>();

        for (var i = 0; i < 3; i++)
        {
            using var response = await member.Client.RechargeAsync(member.Id, 10_000, $"kept-{i}");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            versions.Add(await fixture.Database.ScalarAsync<int>(
                $"SELECT version FROM orleans_reminder WHERE grain_id = 'wallet/{member.Id}' AND reminder_name = 'resume'"));
        }

        Assert.Single(versions.Distinct());
        Assert.Equal(0, await fixture.Database.ScalarAsync<int>("SELECT count(*)::int FROM orleans_reminder WHERE grain_id LIKE 'recharge/%'"));
        Assert.Equal(30_000, await member.Client.BalanceAsync(member.Id));
    }

    [Fact]
    public async Task Recharge_RefusedByTheWallet_LeavesNothingPending_AndTheTickDisarms()
    {
        // The wallet arms before it decides; one recharge fills it to the cap and the next is refused there. Nothing is
        // left to carry on, so a tick disarms the reminder instead of letting it fire for ever.
        var member = await fixture.FundedMemberAsync(app, bankBalanceWon: 3_000_000);
        using var filled = await member.Client.RechargeAsync(member.Id, 2_000_000, "to-the-cap");
        Assert.Equal(HttpStatusCode.OK, filled.StatusCode);

        using var refused = await member.Client.RechargeAsync(member.Id, 10_000, "past-the-cap");

        await refused.AssertProblemAsync(422);
        await WaitUntilDisarmedAsync(member.Id);
        Assert.Equal(2_000_000, await member.Client.BalanceAsync(member.Id));
    }

    private Task<int> ResumeRemindersAsync(string memberId) => fixture.Database.ScalarAsync<int>(
        $"SELECT count(*)::int FROM orleans_reminder WHERE grain_id = 'wallet/{memberId}' AND reminder_name = 'resume'");

    /// <summary>Waits (up to 15 s, the test's ticks come every second) until the wallet's resume reminder is gone.</summary>
    private async Task WaitUntilDisarmedAsync(string memberId)
    {
        for (var attempt = 0; attempt < 150 && await ResumeRemindersAsync(memberId) > 0; attempt++)
        {
            await Task.Delay(100);
        }

        Assert.Equal(0, await ResumeRemindersAsync(memberId));
    }

    private static async Task<JsonElement> PollAsync(HttpClient client, string path, Func<string?, bool> done, string property = "status")
    {
        for (var attempt = 0; attempt < 150; attempt++)
        {
            var body = await client.GetFromJsonAsync<JsonElement>(path);
            if (done(body.GetProperty(property).ToString()))
            {
                return body;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"{path} did not settle within 15 seconds.");
    }
}
