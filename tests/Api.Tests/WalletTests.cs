using System.Net;
using MyPay.Testing;

namespace MyPay.Api.Tests;

public sealed class WalletTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>, IAsyncLifetime
{
    private MyPayApp app = null!;
    private HttpClient client = null!;

    public async Task InitializeAsync()
    {
        app = new MyPayApp(database.ConnectionString);
        (await app.CreateReadyClientAsync()).Dispose();
    }

    public async Task DisposeAsync() => await app.DisposeAsync();

    /// <summary>Registers a member and makes <see cref="client"/> theirs.</summary>
    private async Task<string> NewMember()
    {
        var member = await app.RegisterAsync();
        client = member.Client;
        return member.Id;
    }

    [Fact]
    public async Task GetWallet_NewMember_HasZeroBalance()
    {
        var member = await NewMember();

        Assert.Equal(0, await client.BalanceAsync(member));
    }

    [Fact]
    public async Task Recharge_Valid_CreditsAndReturnsNewBalance()
    {
        var member = await NewMember();

        using var first = await client.RechargeAsync(member, 30_000, "k1");
        using var second = await client.RechargeAsync(member, 50_000, "k2");

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Contains("\"balance\":30000", await first.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Contains("\"balance\":80000", await second.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(80_000, await client.BalanceAsync(member));
    }

    [Fact]
    public async Task Recharge_SameKeyAndBody_ReturnsFirstResponseAndCreditsOnce()
    {
        var member = await NewMember();
        using var first = await client.RechargeAsync(member, 10_000, "same");
        using var between = await client.RechargeAsync(member, 20_000, "other");

        using var repeat = await client.RechargeAsync(member, 10_000, "same");

        Assert.Equal(HttpStatusCode.OK, repeat.StatusCode);
        Assert.Equal(await first.Content.ReadAsStringAsync(), await repeat.Content.ReadAsStringAsync());
        Assert.Equal(30_000, await client.BalanceAsync(member));
    }

    [Fact]
    public async Task Recharge_SameKeyConcurrently_CreditsOnceAndAnswersAllAlike()
    {
        var member = await NewMember();

        var responses = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => client.RechargeAsync(member, 10_000, "burst")));

        var bodies = await Task.WhenAll(responses.Select(response => response.Content.ReadAsStringAsync()));
        Assert.All(responses, response => Assert.Equal(HttpStatusCode.OK, response.StatusCode));
        Assert.Single(bodies.Distinct());
        Assert.Equal(10_000, await client.BalanceAsync(member));
    }

    [Fact]
    public async Task Recharge_SameKeyOtherBody_Is422AndChangesNothing()
    {
        var member = await NewMember();
        using var first = await client.RechargeAsync(member, 10_000, "reused");

        using var reused = await client.RechargeAsync(member, 20_000, "reused");

        var problem = await reused.AssertProblemAsync(422);
        Assert.EndsWith("idempotency-key-reused", problem.ProblemType(), StringComparison.Ordinal);
        Assert.Equal(10_000, await client.BalanceAsync(member));
    }

    [Fact]
    public async Task Recharge_ManyConcurrentDistinctKeys_BalanceIsExact()
    {
        // 200 recharges of 10,000 won fill the 2,000,000 won cap exactly: any lost or doubled credit shows.
        var member = await NewMember();

        var responses = await Task.WhenAll(Enumerable.Range(0, 200).Select(i => client.RechargeAsync(member, 10_000, $"key-{i}")));

        Assert.All(responses, response => Assert.Equal(HttpStatusCode.OK, response.StatusCode));
        Assert.Equal(2_000_000, await client.BalanceAsync(member));
    }

    [Fact]
    public async Task Recharge_AboveBalanceCap_Is422AndChangesNothing()
    {
        var member = await NewMember();
        using var fill = await client.RechargeAsync(member, 1_990_000, "fill");

        using var over = await client.RechargeAsync(member, 20_000, "over");

        var problem = await over.AssertProblemAsync(422);
        Assert.EndsWith("balance-cap-exceeded", problem.ProblemType(), StringComparison.Ordinal);
        Assert.Equal(1_990_000, await client.BalanceAsync(member));
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
        var member = await NewMember();
        using var seed = await client.RechargeAsync(member, 10_000, "seed");

        using var response = await client.RechargeAsync(member, body, "bad");

        await response.AssertProblemAsync(status);
        Assert.Equal(10_000, await client.BalanceAsync(member));

        // The key was not consumed by the bad request: a valid request may still use it.
        using var valid = await client.RechargeAsync(member, 10_000, "bad");
        Assert.Equal(HttpStatusCode.OK, valid.StatusCode);
    }

    [Fact]
    public async Task Recharge_HugeBody_Is413Problem()
    {
        var member = await NewMember();
        var body = $$"""{"amount":{{new string('1', 200 * 1024)}}}""";

        using var response = await client.RechargeAsync(member, body, "huge");

        await response.AssertProblemAsync(413);
        Assert.Equal(0, await client.BalanceAsync(member));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("has space")]
    [InlineData("한글키")]
    public async Task Recharge_MissingOrMalformedKey_Is400(string? key)
    {
        var member = await NewMember();

        using var response = await client.RechargeAsync(member, 10_000, key);

        var problem = await response.AssertProblemAsync(400);
        Assert.EndsWith("idempotency-key-required", problem.ProblemType(), StringComparison.Ordinal);
        Assert.Equal(0, await client.BalanceAsync(member));
    }

    [Fact]
    public async Task Recharge_KeyLongerThan200_Is400()
    {
        var member = await NewMember();

        using var response = await client.RechargeAsync(member, 10_000, new string('k', 201));

        await response.AssertProblemAsync(400);
    }

    [Theory]
    [InlineData("bad%20id")]
    [InlineData("a.b")]
    public async Task Wallet_InvalidMemberId_Is400(string memberId)
    {
        await NewMember();

        using var response = await client.GetAsync(new Uri($"/v1/members/{memberId}/wallet", UriKind.Relative));

        await response.AssertProblemAsync(400);
    }

    [Fact]
    public async Task Wallet_SurvivesANewNode_BalanceIsStored()
    {
        var member = await NewMember();
        using var recharged = await client.RechargeAsync(member, 40_000, "stored");

        await using var restarted = new MyPayApp(database.ConnectionString);
        (await restarted.CreateReadyClientAsync()).Dispose();
        using var operatorClient = await restarted.OperatorAsync();

        Assert.Equal(40_000, await operatorClient.BalanceAsync(member));
    }
}
