using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using MyPay.Testing;

namespace MyPay.Api.Tests;

/// <summary>The real bank simulator as a process, and a fresh database, shared by one test class.</summary>
public sealed class BankFixture : IAsyncLifetime
{
    public PostgresDatabase Database { get; } = new();

    public BuiltProcess Bank { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        await Database.InitializeAsync();
        Bank = await BuiltProcess.StartBankAsync();
    }

    public async Task DisposeAsync()
    {
        await Bank.DisposeAsync();
        await Database.DisposeAsync();
    }

    /// <summary>A node on this fixture's database and bank, ready to serve, the bank's faults cleared first.</summary>
    public async Task<MyPayApp> StartNodeAsync()
    {
        await ClearFaultsAsync();
        var app = new MyPayApp(Database.ConnectionString, Bank.BaseAddress);
        (await app.CreateReadyClientAsync()).Dispose();
        return app;
    }

    /// <summary>Opens an account with a unique number at the bank; returns its code and number.</summary>
    public async Task<(string BankCode, string AccountNumber)> OpenAccountAsync(string holderName, long balanceWon, string bankCode = "004", string status = "open")
    {
        var accountNumber = $"{RandomNumberGenerator.GetInt32(100, 999)}-{RandomNumberGenerator.GetInt32(100_000, 999_999)}-{RandomNumberGenerator.GetInt32(1000, 9999)}";
        using var response = await Bank.Client.PostAsJsonAsync("/accounts", new { bankCode, accountNumber, holderName, balance = balanceWon, status });
        response.EnsureSuccessStatusCode();
        return (bankCode, accountNumber);
    }

    public async Task<long> BalanceAsync(string bankCode, string accountNumber) =>
        (await Bank.Client.GetFromJsonAsync<System.Text.Json.JsonElement>($"/banks/{bankCode}/accounts/{accountNumber}")).GetProperty("balance").GetInt64();

    /// <summary>
    /// Registers a member (a customer unless <paramref name="type"/> says merchant), opens an account holding
    /// <paramref name="bankBalanceWon"/> in their name and links it: a member ready to recharge, or a merchant ready to
    /// be settled.
    /// </summary>
    public async Task<MyPayApp.Member> FundedMemberAsync(
        MyPayApp app, long bankBalanceWon = 100_000_000, string name = "김민수", string type = "customer", string bankCode = "004")
    {
        var member = await app.RegisterAsync(type, name);
        (bankCode, var accountNumber) = await OpenAccountAsync(name, bankBalanceWon, bankCode);
        using var linked = await member.Client.PostAsJsonAsync($"/v1/members/{member.Id}/bank-accounts", new { bankCode, accountNumber });
        linked.EnsureSuccessStatusCode();
        return member with { BankCode = bankCode, AccountNumber = accountNumber };
    }

    /// <summary>A customer ready to pay: <see cref="FundedMemberAsync"/>, then this much recharged into the wallet (a multiple of 10,000 won; none for 0).</summary>
    public async Task<MyPayApp.Member> MemberWithWalletAsync(MyPayApp app, long walletWon)
    {
        var member = await FundedMemberAsync(app, bankBalanceWon: 10_000_000);
        if (walletWon > 0)
        {
            using var recharged = await member.Client.RechargeAsync(member.Id, walletWon, $"seed-{Guid.NewGuid():N}");
            Assert.Equal(HttpStatusCode.OK, recharged.StatusCode);
        }

        return member;
    }

    public async Task<long> CorporateBalanceAsync() =>
        (await Bank.Client.GetFromJsonAsync<System.Text.Json.JsonElement>("/corporate")).GetProperty("balance").GetInt64();

    /// <summary>Sets a bank's faults; an error answers <paramref name="errorStatus"/> (503, 429 or 408).</summary>
    public async Task SetFaultsAsync(string bankCode, double errorRate = 0, double lostResponseRate = 0, int latencyMs = 0, int errorStatus = 503)
    {
        using var response = await Bank.Client.PutAsJsonAsync($"/faults/{bankCode}", new { latencyMs, errorRate, lostResponseRate, errorStatus });
        response.EnsureSuccessStatusCode();
    }

    public async Task ClearFaultsAsync()
    {
        using var response = await Bank.Client.DeleteAsync(new Uri("/faults", UriKind.Relative));
        response.EnsureSuccessStatusCode();
    }
}
