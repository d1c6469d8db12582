using System.Text.Json;

namespace MyPay.BankSimulator.Tests;

/// <summary>What exists when the bank starts (the corporate account and the seed file), and what stops it from starting.</summary>
public sealed class StartupTests
{
    [Fact]
    public async Task Start_DefaultSeedFile_OpensTheSampleAccounts()
    {
        await using var bank = new BankApp();
        using var client = bank.CreateClient();

        var korean = await client.GetAccountAsync(new BankAccount("004", "123401-04-567890"));
        var latin = await client.GetAccountAsync(new BankAccount("004", "928301-01-283746"));
        var closed = await client.GetAccountAsync(new BankAccount("081", "620-000000-00001"));

        Assert.Equal("김민준", korean.String("holderName"));
        Assert.Equal(5_000_000, korean.GetProperty("balance").GetInt64());
        Assert.Equal("Emily Clark", latin.String("holderName"));
        Assert.Equal("closed", closed.String("status"));
    }

    [Fact]
    public async Task Start_DefaultSeedFile_EveryAccountCanBeLookedUp()
    {
        // The seed file ships next to the app; the tests read the same copy the bank opened.
        await using var bank = new BankApp();
        using var client = bank.CreateClient();

        var seeded = SeedAccounts.Read();

        Assert.InRange(seeded.Count, 5, 50);
        Assert.True(seeded.Select(account => account.BankCode).Distinct().Count() >= 5, "The sample accounts should span the main banks.");
        foreach (var account in seeded)
        {
            Assert.Equal(account.HolderName, (await client.GetAccountAsync(account.Account)).String("holderName"));
        }
    }

    [Fact]
    public async Task Start_CustomSeedFile_OpensItsAccountsOnly()
    {
        using var seed = new TemporaryFile("""
            {"accounts": [
              {"bankCode": "011", "accountNumber": "301-0000-0001-11", "holderName": "농협 고객", "balance": 42},
              {"bankCode": "092", "accountNumber": "1000-0000-0001", "holderName": "Toss User"}
            ]}
            """);
        await using var bank = new BankApp(new Dictionary<string, string?> { ["Bank:SeedFile"] = seed.Path });
        using var client = bank.CreateClient();

        Assert.Equal(42, await client.BalanceAsync(new BankAccount("011", "301-0000-0001-11")));
        Assert.Equal(0, await client.BalanceAsync(new BankAccount("092", "1000-0000-0001")));
        using var sample = await client.GetAsync("/banks/004/accounts/123401-04-567890");
        await sample.AssertProblemAsync(404, "unknown-account");
    }

    [Fact]
    public async Task Start_NoSeedFile_OpensOnlyTheCorporateAccount()
    {
        await using var bank = new BankApp(new Dictionary<string, string?> { ["Bank:SeedFile"] = "" });
        using var client = bank.CreateClient();

        Assert.Equal(0, await client.BalanceAsync(BankAccount.Corporate));
        using var sample = await client.GetAsync("/banks/004/accounts/123401-04-567890");
        await sample.AssertProblemAsync(404, "unknown-account");
    }

    [Theory]
    [InlineData("Bank:CorporateBankCode", "999", "CorporateBankCode")]
    [InlineData("Bank:CorporateBankCode", "88", "CorporateBankCode")]
    [InlineData("Bank:CorporateAccountNumber", "ABC", "CorporateAccountNumber")]
    [InlineData("Bank:CorporateHolderName", " ", "CorporateHolderName")]
    [InlineData("Bank:CorporateStartingBalanceWon", "-1", "CorporateStartingBalanceWon")]
    [InlineData("Bank:SeedFile", "no-such-seed.json", "SeedFile")]
    [InlineData("Bank:AccountsMax", "0", "AccountsMax")]
    [InlineData("Bank:TransfersMax", "10000001", "TransfersMax")]
    public async Task Start_InvalidOption_FailsNamingIt(string key, string value, string option)
    {
        await using var bank = new BankApp(new Dictionary<string, string?> { [key] = value });

        var exception = Assert.ThrowsAny<Exception>(() => bank.CreateClient());

        Assert.Contains($"{option}: ", Messages(exception), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_NoDatabaseUrl_FailsNamingTheVariable()
    {
        await using var bank = new BankApp(new Dictionary<string, string?> { [Ledger.BankDatabase.UrlVariable] = "" });

        var exception = Assert.ThrowsAny<Exception>(() => bank.CreateClient());

        Assert.Contains("MYPAY_BANK_DATABASE_URL is not set", Messages(exception), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"accounts": [{"bankCode": "004", "accountNumber": "1", "holderName": "x", "balance": -5}]}""", "account 0")]
    [InlineData("""{"accounts": [{"bankCode": "004", "accountNumber": "1", "holderName": "x"}, {"bankCode": "999", "accountNumber": "1", "holderName": "y"}]}""", "account 1")]
    [InlineData("""{"accounts": [{"bankCode": "004", "accountNumber": "1", "holderName": "x"}, {"bankCode": "004", "accountNumber": "1", "holderName": "y"}]}""", "account 1")]
    [InlineData("""{"accounts": [{"bankCode": "088", "accountNumber": "100-000-000001", "holderName": "Not MyPay"}]}""", "account 0")]
    [InlineData("""{"accounts": [{"bankCode": "004", "accountNumber": "1", "holderName": "x", "balance": "5"}]}""", "not valid JSON")]
    [InlineData("""{"accounts": [""", "not valid JSON")]
    [InlineData("""{"accountz": []}""", "no \"accounts\"")]
    public async Task Start_InvalidSeedFile_FailsNamingTheEntry(string contents, string expected)
    {
        using var seed = new TemporaryFile(contents);
        await using var bank = new BankApp(new Dictionary<string, string?> { ["Bank:SeedFile"] = seed.Path });

        var exception = Assert.ThrowsAny<Exception>(() => bank.CreateClient());

        Assert.Contains(expected, Messages(exception), StringComparison.Ordinal);
    }

    [Fact]
    public async Task OpenAccount_PastAccountsMax_Returns503LedgerFull()
    {
        // The corporate account is one of the two allowed.
        await using var bank = new BankApp(new Dictionary<string, string?> { ["Bank:SeedFile"] = "", ["Bank:AccountsMax"] = "2" });
        using var client = bank.CreateClient();
        await client.OpenAsync("004", "1", 0);

        using var response = await client.OpenAccountAsync(new BankAccount("004", "2"), "One Too Many", 0);

        await response.AssertProblemAsync(503, "ledger-full");
    }

    [Fact]
    public async Task Transfer_PastTransfersMax_Returns503LedgerFullButRepeatsStillAnswer()
    {
        await using var bank = new BankApp(new Dictionary<string, string?> { ["Bank:TransfersMax"] = "1" });
        using var client = bank.CreateClient();
        var from = await client.OpenAsync("004", "100-1", 100);
        var to = await client.OpenAsync("088", "200-1", 0);
        var first = await client.TransferOutcomeAsync("first", from, to, 10);

        using var second = await client.TransferAsync("second", from, to, 10);
        var repeat = await client.TransferOutcomeAsync("first", from, to, 10);

        await second.AssertProblemAsync(503, "ledger-full");
        Assert.Equal(first.GetRawText(), repeat.GetRawText());
        Assert.Equal(90, await client.BalanceAsync(from));
    }

    /// <summary>The messages of an exception and its causes, without stack traces that could mention the expected words.</summary>
    private static string Messages(Exception exception)
    {
        var messages = new List<string>();
        for (Exception? cause = exception; cause is not null; cause = cause.InnerException)
        {
            messages.Add(cause.Message);
        }

        return string.Join(" <- ", messages);
    }
}

/// <summary>The accounts of the default seed file, as shipped next to the bank (and copied next to these tests).</summary>
internal static class SeedAccounts
{
    public static List<SeedAccount> Read()
    {
        using var seed = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "seed.json")));
        return [.. seed.RootElement.GetProperty("accounts").EnumerateArray().Select(account => new SeedAccount(
            new BankAccount(account.String("bankCode"), account.String("accountNumber")),
            account.String("holderName"),
            account.TryGetProperty("balance", out var balance) ? balance.GetInt64() : 0,
            account.TryGetProperty("status", out var status) ? status.GetString()! : "open"))];
    }
}

internal sealed record SeedAccount(BankAccount Account, string HolderName, long BalanceWon, string Status)
{
    public string BankCode => Account.BankCode;
}
