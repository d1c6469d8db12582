using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace MyPay.Api.Tests;

/// <summary>Linking bank accounts, validated at the real bank simulator.</summary>
public sealed class BankAccountTests(BankFixture fixture) : IClassFixture<BankFixture>, IAsyncLifetime
{
    private MyPayApp app = null!;

    public async Task InitializeAsync()
    {
        await fixture.ClearFaultsAsync();
        app = new MyPayApp(fixture.Database.ConnectionString, fixture.Bank.BaseAddress);
        (await app.CreateReadyClientAsync()).Dispose();
    }

    public async Task DisposeAsync() => await app.DisposeAsync();

    private static Task<HttpResponseMessage> LinkAsync(MyPayApp.Member member, string bankCode, string accountNumber) =>
        member.Client.PostAsJsonAsync($"/v1/members/{member.Id}/bank-accounts", new { bankCode, accountNumber });

    [Fact]
    public async Task Link_OwnOpenAccount_Is201AndListed_AndRelinkingIs200()
    {
        var member = await app.RegisterAsync(name: "김 민 준");
        var (bankCode, accountNumber) = await fixture.OpenAccountAsync("김 민준", 100_000);

        using var linked = await LinkAsync(member, bankCode, accountNumber);
        using var again = await LinkAsync(member, bankCode, accountNumber);
        var listed = await member.Client.GetFromJsonAsync<JsonElement[]>($"/v1/members/{member.Id}/bank-accounts");

        Assert.Equal(HttpStatusCode.Created, linked.StatusCode);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        var only = Assert.Single(listed!);
        Assert.Equal(accountNumber, only.GetProperty("accountNumber").GetString());
        Assert.Equal(bankCode, only.GetProperty("bankCode").GetString());
    }

    [Fact]
    public async Task Link_AccountInAnotherName_Is422()
    {
        var member = await app.RegisterAsync(name: "이서연");
        var (bankCode, accountNumber) = await fixture.OpenAccountAsync("박지호", 100_000);

        using var response = await LinkAsync(member, bankCode, accountNumber);

        Assert.EndsWith("holder-mismatch", (await response.AssertProblemAsync(422)).ProblemType(), StringComparison.Ordinal);
        Assert.Empty((await member.Client.GetFromJsonAsync<JsonElement[]>($"/v1/members/{member.Id}/bank-accounts"))!);
    }

    [Fact]
    public async Task Link_ClosedAccount_Is422()
    {
        var member = await app.RegisterAsync(name: "한지민");
        var (bankCode, accountNumber) = await fixture.OpenAccountAsync("한지민", 0, status: "closed");

        using var response = await LinkAsync(member, bankCode, accountNumber);

        Assert.EndsWith("bank-account-closed", (await response.AssertProblemAsync(422)).ProblemType(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("004", "000-000000-0000")]
    [InlineData("999", "123-456")]
    public async Task Link_UnknownAccountOrBank_Is422(string bankCode, string accountNumber)
    {
        var member = await app.RegisterAsync();

        using var response = await LinkAsync(member, bankCode, accountNumber);

        Assert.EndsWith("unknown-bank-account", (await response.AssertProblemAsync(422)).ProblemType(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("04", "123-456")]
    [InlineData("abc", "123-456")]
    [InlineData(null, "123-456")]
    [InlineData("004", "")]
    [InlineData("004", "---")]
    [InlineData("004", "12a-456")]
    [InlineData("004", "123456789012345678901234567890123")]
    [InlineData("004", null)]
    public async Task Link_MalformedAccount_Is400(string? bankCode, string? accountNumber)
    {
        var member = await app.RegisterAsync();

        using var response = await member.Client.PostAsJsonAsync($"/v1/members/{member.Id}/bank-accounts", new { bankCode, accountNumber });

        await response.AssertProblemAsync(400);
    }

    [Fact]
    public async Task Link_WhenSuspended_Is403AndLinksNothing()
    {
        var member = await app.RegisterAsync(name: "정하늘");
        var (bankCode, accountNumber) = await fixture.OpenAccountAsync("정하늘", 10_000);
        using var operatorClient = await app.OperatorAsync();
        using var suspended = await operatorClient.PatchAsJsonAsync($"/v1/members/{member.Id}", new { status = "suspended" });
        suspended.EnsureSuccessStatusCode();

        using var response = await LinkAsync(member, bankCode, accountNumber);

        await response.AssertProblemAsync(403);
        Assert.Empty((await operatorClient.GetFromJsonAsync<JsonElement[]>($"/v1/members/{member.Id}/bank-accounts"))!);
    }

    [Fact]
    public async Task Link_BankDown_Is503AndLinksNothing()
    {
        var member = await app.RegisterAsync(name: "최유나");
        var (bankCode, accountNumber) = await fixture.OpenAccountAsync("최유나", 10_000, bankCode: "081");
        await fixture.SetFaultsAsync("081", errorRate: 1);

        using var response = await LinkAsync(member, bankCode, accountNumber);

        await response.AssertProblemAsync(503);
        Assert.Empty((await member.Client.GetFromJsonAsync<JsonElement[]>($"/v1/members/{member.Id}/bank-accounts"))!);
    }

    [Fact]
    public async Task Link_AnotherMembersAccounts_Is403()
    {
        var member = await app.RegisterAsync();
        var stranger = await app.RegisterAsync();

        using var link = await stranger.Client.PostAsJsonAsync($"/v1/members/{member.Id}/bank-accounts", new { bankCode = "004", accountNumber = "123-456" });
        using var list = await stranger.Client.GetAsync(new Uri($"/v1/members/{member.Id}/bank-accounts", UriKind.Relative));

        await link.AssertProblemAsync(403);
        await list.AssertProblemAsync(403);
    }
}
