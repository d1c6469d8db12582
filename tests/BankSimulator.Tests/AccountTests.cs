using System.Net.Http.Json;
using System.Text.Json;

namespace MyPay.BankSimulator.Tests;

public sealed class AccountTests
{
    [Fact]
    public async Task OpenAccount_NewAccount_Returns201WithLocationAndAccount()
    {
        await using var bank = new BankApp();
        using var client = bank.CreateClient();

        using var response = await client.OpenAccountAsync(new BankAccount("004", "111-222-333"), "김하나", 50_000);

        Assert.Equal(201, (int)response.StatusCode);
        Assert.Equal("/banks/004/accounts/111-222-333", response.Headers.Location?.OriginalString);
        AssertAccount(await response.Content.ReadFromJsonAsync<JsonElement>(), "004", "111-222-333", "김하나", "open", 50_000);
    }

    [Fact]
    public async Task GetAccount_AtItsLocation_ReturnsTheOpenedAccount()
    {
        await using var bank = new BankApp();
        using var client = bank.CreateClient();
        using var opened = await client.OpenAccountAsync(new BankAccount("090", "3333-01-0000001"), "Jane Doe", 1_234_567);

        using var response = await client.GetAsync(opened.Headers.Location);

        Assert.Equal(200, (int)response.StatusCode);
        AssertAccount(await response.Content.ReadFromJsonAsync<JsonElement>(), "090", "3333-01-0000001", "Jane Doe", "open", 1_234_567);
    }

    [Fact]
    public async Task OpenAccount_WithoutBalanceOrStatus_IsOpenWithZero()
    {
        await using var bank = new BankApp();
        using var client = bank.CreateClient();

        using var response = await client.PostJsonAsync("/accounts", """{"bankCode":"020","accountNumber":"1002-000-000001","holderName":"  박서준  "}""");

        Assert.Equal(201, (int)response.StatusCode);
        var account = await client.GetAccountAsync(new BankAccount("020", "1002-000-000001"));
        AssertAccount(account, "020", "1002-000-000001", "박서준", "open", 0);
    }

    [Fact]
    public async Task OpenAccount_Closed_IsClosed()
    {
        await using var bank = new BankApp();
        using var client = bank.CreateClient();

        var account = await client.OpenAsync("081", "620-1", 10_000, status: "closed");

        Assert.Equal("closed", (await client.GetAccountAsync(account)).String("status"));
    }

    [Fact]
    public async Task OpenAccount_Existing_Returns409AndKeepsTheFirst()
    {
        await using var bank = new BankApp();
        using var client = bank.CreateClient();
        var account = await client.OpenAsync("004", "1-2-3", 10_000);

        using var response = await client.OpenAccountAsync(account, "Someone Else", 99_999);

        await response.AssertProblemAsync(409, "account-exists");
        var kept = await client.GetAccountAsync(account);
        Assert.Equal(10_000, kept.GetProperty("balance").GetInt64());
        Assert.Equal("Holder 1-2-3", kept.String("holderName"));
    }

    [Fact]
    public async Task OpenAccount_SameNumberAtAnotherBank_IsAnotherAccount()
    {
        await using var bank = new BankApp();
        using var client = bank.CreateClient();
        var atKookmin = await client.OpenAsync("004", "777", 1);

        var atShinhan = await client.OpenAsync("088", "777", 2);

        Assert.Equal(1, await client.BalanceAsync(atKookmin));
        Assert.Equal(2, await client.BalanceAsync(atShinhan));
    }

    [Fact]
    public async Task OpenAccount_UnknownBank_Returns404UnknownBank()
    {
        await using var bank = new BankApp();
        using var client = bank.CreateClient();

        using var response = await client.OpenAccountAsync(new BankAccount("999", "1"), "Nobody", 0);

        await response.AssertProblemAsync(404, "unknown-bank");
    }

    [Theory]
    [InlineData("""{"accountNumber":"1","holderName":"x"}""", "bankCode")]
    [InlineData("""{"bankCode":"4","accountNumber":"1","holderName":"x"}""", "bankCode")]
    [InlineData("""{"bankCode":"abc","accountNumber":"1","holderName":"x"}""", "bankCode")]
    [InlineData("""{"bankCode":"0040","accountNumber":"1","holderName":"x"}""", "bankCode")]
    [InlineData("""{"bankCode":"004","holderName":"x"}""", "accountNumber")]
    [InlineData("""{"bankCode":"004","accountNumber":"","holderName":"x"}""", "accountNumber")]
    [InlineData("""{"bankCode":"004","accountNumber":"12a-34","holderName":"x"}""", "accountNumber")]
    [InlineData("""{"bankCode":"004","accountNumber":"---","holderName":"x"}""", "accountNumber")]
    [InlineData("""{"bankCode":"004","accountNumber":"123 456","holderName":"x"}""", "accountNumber")]
    [InlineData("""{"bankCode":"004","accountNumber":"123456789012345678901234567890123","holderName":"x"}""", "accountNumber")]
    [InlineData("""{"bankCode":"004","accountNumber":"1"}""", "holderName")]
    [InlineData("""{"bankCode":"004","accountNumber":"1","holderName":""}""", "holderName")]
    [InlineData("""{"bankCode":"004","accountNumber":"1","holderName":"   "}""", "holderName")]
    [InlineData("""{"bankCode":"004","accountNumber":"1","holderName":"a\u0007b"}""", "holderName")]
    [InlineData("""{"bankCode":"004","accountNumber":"1","holderName":"123456789012345678901234567890123456789012345678901"}""", "holderName")]
    [InlineData("""{"bankCode":"004","accountNumber":"1","holderName":"x","balance":-1}""", "balance")]
    [InlineData("""{"bankCode":"004","accountNumber":"1","holderName":"x","balance":1000000000000001}""", "balance")]
    public async Task OpenAccount_InvalidField_Returns400NamingIt(string body, string field)
    {
        await using var bank = new BankApp();
        using var client = bank.CreateClient();

        using var response = await client.PostJsonAsync("/accounts", body);

        await response.AssertInvalidAsync(field);
    }

    [Fact]
    public async Task OpenAccount_LongestValidFields_IsCreated()
    {
        // The limits are inclusive: a 32-character number, a 50-character name and the largest balance are accepted.
        await using var bank = new BankApp();
        using var client = bank.CreateClient();
        var account = new BankAccount("004", new string('9', 32));

        using var response = await client.OpenAccountAsync(account, new string('가', 50), 1_000_000_000_000_000);

        Assert.Equal(201, (int)response.StatusCode);
    }

    [Fact]
    public async Task OpenAccount_EveryFieldInvalid_NamesEveryField()
    {
        await using var bank = new BankApp();
        using var client = bank.CreateClient();

        using var response = await client.PostJsonAsync("/accounts", """{"bankCode":"x","accountNumber":"y","holderName":"","balance":-5}""");

        await response.AssertInvalidAsync("bankCode", "accountNumber", "holderName", "balance");
    }

    [Theory]
    [InlineData("{")]
    [InlineData("[]")]
    [InlineData("null")]
    [InlineData("")]
    [InlineData("""{"bankCode":"004","accountNumber":"1","holderName":"x","balance":"1000"}""")]
    [InlineData("""{"bankCode":"004","accountNumber":"1","holderName":"x","balance":1.5}""")]
    [InlineData("""{"bankCode":"004","accountNumber":"1","holderName":"x","status":"frozen"}""")]
    [InlineData("""{"bankCode":"004","accountNumber":"1","holderName":"x","status":1}""")]
    [InlineData("""{"bankCode":4,"accountNumber":"1","holderName":"x"}""")]
    public async Task OpenAccount_UnreadableBody_Returns400WithDetail(string body)
    {
        await using var bank = new BankApp();
        using var client = bank.CreateClient();

        using var response = await client.PostJsonAsync("/accounts", body);

        var problem = await response.AssertProblemAsync(400, "malformed-request");
        Assert.False(string.IsNullOrWhiteSpace(problem.String("detail")));
    }

    [Fact]
    public async Task OpenAccount_StringBalance_DetailNamesTheField()
    {
        await using var bank = new BankApp();
        using var client = bank.CreateClient();

        using var response = await client.PostJsonAsync("/accounts", """{"bankCode":"004","accountNumber":"1","holderName":"x","balance":"1000"}""");

        var problem = await response.AssertProblemAsync(400, "malformed-request");
        Assert.Contains("$.balance", problem.String("detail"), StringComparison.Ordinal);
        Assert.Contains("JSON numbers", problem.String("detail"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task OpenAccount_NotJson_Returns415()
    {
        await using var bank = new BankApp();
        using var client = bank.CreateClient();

        using var response = await client.PostAsync("/accounts", new StringContent("bankCode=004"));

        await response.AssertProblemAsync(415, "unsupported-media-type");
    }

    [Fact]
    public async Task OpenAccount_BodyOverLimit_Returns413()
    {
        await using var bank = new BankApp();
        using var client = bank.CreateClient();
        var holderName = new string('x', 70 * 1024);

        using var response = await client.OpenAccountAsync(new BankAccount("004", "1"), holderName, 0);

        await response.AssertProblemAsync(413, "request-too-large");
    }

    [Fact]
    public async Task GetAccount_UnknownAccount_Returns404UnknownAccount()
    {
        await using var bank = new BankApp();
        using var client = bank.CreateClient();

        using var response = await client.GetAsync("/banks/004/accounts/000-000-000");

        await response.AssertProblemAsync(404, "unknown-account");
    }

    [Fact]
    public async Task GetAccount_UnknownBank_Returns404UnknownBank()
    {
        await using var bank = new BankApp();
        using var client = bank.CreateClient();

        using var response = await client.GetAsync("/banks/999/accounts/1");

        await response.AssertProblemAsync(404, "unknown-bank");
    }

    [Theory]
    [InlineData("04", "1", "bankCode")]
    [InlineData("0a4", "1", "bankCode")]
    [InlineData("004", "12ab", "accountNumber")]
    [InlineData("004", "123456789012345678901234567890123", "accountNumber")]
    public async Task GetAccount_MalformedPath_Returns400(string bankCode, string accountNumber, string field)
    {
        await using var bank = new BankApp();
        using var client = bank.CreateClient();

        using var response = await client.GetAsync($"/banks/{bankCode}/accounts/{accountNumber}");

        await response.AssertInvalidAsync(field);
    }

    [Fact]
    public async Task ChangeAccount_CloseThenReopen_ChangesOnlyTheStatus()
    {
        await using var bank = new BankApp();
        using var client = bank.CreateClient();
        var account = await client.OpenAsync("088", "110-1", 5_000);

        using var closed = await client.SendJsonAsync(HttpMethod.Patch, account.Path, """{"status":"closed"}""");
        Assert.Equal(200, (int)closed.StatusCode);
        AssertAccount(await closed.Content.ReadFromJsonAsync<JsonElement>(), "088", "110-1", "Holder 110-1", "closed", 5_000);
        Assert.Equal("closed", (await client.GetAccountAsync(account)).String("status"));

        using var reopened = await client.SendJsonAsync(HttpMethod.Patch, account.Path, """{"status":"open"}""");
        Assert.Equal(200, (int)reopened.StatusCode);
        AssertAccount(await client.GetAccountAsync(account), "088", "110-1", "Holder 110-1", "open", 5_000);
    }

    [Theory]
    [InlineData("/banks/004/accounts/404", 404, "unknown-account")]
    [InlineData("/banks/999/accounts/404", 404, "unknown-bank")]
    public async Task ChangeAccount_Unknown_Returns404(string path, int status, string type)
    {
        await using var bank = new BankApp();
        using var client = bank.CreateClient();

        using var response = await client.SendJsonAsync(HttpMethod.Patch, path, """{"status":"closed"}""");

        await response.AssertProblemAsync(status, type);
    }

    [Fact]
    public async Task ChangeAccount_MissingStatus_Returns400()
    {
        await using var bank = new BankApp();
        using var client = bank.CreateClient();
        var account = await client.OpenAsync("088", "110-2", 0);

        using var response = await client.SendJsonAsync(HttpMethod.Patch, account.Path, "{}");

        await response.AssertInvalidAsync("status");
    }

    [Fact]
    public async Task ChangeAccount_UnknownStatus_Returns400()
    {
        await using var bank = new BankApp();
        using var client = bank.CreateClient();
        var account = await client.OpenAsync("088", "110-3", 0);

        using var response = await client.SendJsonAsync(HttpMethod.Patch, account.Path, """{"status":"frozen"}""");

        await response.AssertProblemAsync(400, "malformed-request");
        Assert.Equal("open", (await client.GetAccountAsync(account)).String("status"));
    }

    [Fact]
    public async Task Corporate_DefaultOptions_IsMyPayCorpWithZeroBalance()
    {
        await using var bank = new BankApp();
        using var client = bank.CreateClient();

        var corporate = await client.GetFromJsonAsync<JsonElement>("/corporate");

        AssertAccount(corporate, "088", "100-000-000001", "MyPay Corp.", "open", 0);
        AssertAccount(await client.GetAccountAsync(BankAccount.Corporate), "088", "100-000-000001", "MyPay Corp.", "open", 0);
    }

    [Fact]
    public async Task Corporate_ConfiguredOptions_AreUsed()
    {
        await using var bank = new BankApp(new Dictionary<string, string?>
        {
            ["Bank:CorporateBankCode"] = "004",
            ["Bank:CorporateAccountNumber"] = "999-01",
            ["Bank:CorporateHolderName"] = "마이페이 주식회사",
            ["Bank:CorporateStartingBalanceWon"] = "700000",
        });
        using var client = bank.CreateClient();

        var corporate = await client.GetFromJsonAsync<JsonElement>("/corporate");

        AssertAccount(corporate, "004", "999-01", "마이페이 주식회사", "open", 700_000);
    }

    [Fact]
    public async Task Corporate_OpenedAgain_Returns409()
    {
        await using var bank = new BankApp();
        using var client = bank.CreateClient();

        using var response = await client.OpenAccountAsync(BankAccount.Corporate, "Impostor", 1_000_000);

        await response.AssertProblemAsync(409, "account-exists");
        Assert.Equal(0, await client.BalanceAsync(BankAccount.Corporate));
    }

    [Fact]
    public async Task Banks_List_HasTheMainBanks()
    {
        await using var bank = new BankApp();
        using var client = bank.CreateClient();

        var banks = await client.GetFromJsonAsync<JsonElement>("/banks");

        var codes = banks.EnumerateArray().Select(entry => entry.String("bankCode")).ToList();
        Assert.Subset(codes.ToHashSet(), new HashSet<string> { "004", "088", "020", "081", "090" });
        Assert.Equal(codes.Order(StringComparer.Ordinal), codes);
        Assert.Contains(banks.EnumerateArray(), entry => entry.String("bankCode") == "090" && entry.String("name") == "카카오뱅크");
    }

    private static void AssertAccount(JsonElement account, string bankCode, string accountNumber, string holderName, string status, long balanceWon)
    {
        Assert.Equal(bankCode, account.String("bankCode"));
        Assert.Equal(accountNumber, account.String("accountNumber"));
        Assert.Equal(holderName, account.String("holderName"));
        Assert.Equal(status, account.String("status"));
        Assert.Equal(balanceWon, account.GetProperty("balance").GetInt64());
    }
}
