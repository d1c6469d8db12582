using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using MyPay.Testing;

namespace MyPay.EndToEnd.Tests;

/// <summary>
/// A node killed with SIGKILL while a remittance to a bank account holds the sender's money and the bank
/// transfer has not happened (or its answer was lost), with real processes: the node, the bank simulator,
/// PostgreSQL. After a restart, with no client retrying anything, the remittance's durable reminder must
/// finish it: completed (the account credited once, the sender debited amount and fee) or voided (the sender
/// refunded to the won, the account untouched) — never both, never neither — and the ledger must balance.
/// Each test gets its own database and bank, so the corporate account can be reconciled exactly.
/// </summary>
public sealed class RemittanceCrashTests : IAsyncLifetime
{
    private const long WalletWon = 100_000;
    private const long AmountWon = 30_000;
    private const long FeeWon = 500;
    private const long BankFeeWon = 300;
    private const string RecipientBank = "020";

    /// <summary>Reminders resume a remittance every second.</summary>
    private static readonly Dictionary<string, string> Fast = new()
    {
        ["Remittance__ResumeInterval"] = "00:00:01",
        ["Recharge__SynchronousWait"] = "00:00:01",
        ["Bank__RetriesMax"] = "0",
    };

    private readonly PostgresDatabase database = new();

    public Task InitializeAsync() => database.InitializeAsync();

    public Task DisposeAsync() => database.DisposeAsync();

    [Fact]
    public async Task KilledWhileTheRecipientsBankIsDown_AfterRestartTheRemittanceCompletesOrVoids_NeverBothNeverNeither()
    {
        // The recipient's bank refuses every call (503, nothing applied), so the hold is taken and the transfer
        // cannot happen; the node is killed there. After the bank recovers and the node restarts, the bank
        // has every reason to accept the transfer: completing is expected, but voiding is also a correct end.
        await using var bank = await BuiltProcess.StartBankAsync();
        var (sender, external, remittance) = await HoldThenKillAsync(bank, new { errorRate = 1.0 }, afterHold: null);

        await using var restarted = await NodeProcess.StartAsync(database.ConnectionString, bank.BaseAddress, Fast);
        var final = await FinalAsync(restarted, sender, remittance.Location);

        var status = final.GetProperty("status").GetString();
        var atTheBank = await TransferStatusAsync(bank, remittance.Id);
        switch (status)
        {
            case "completed":
                Assert.Equal("succeeded", atTheBank);
                Assert.Equal(WalletWon - AmountWon - FeeWon, await BalanceAsync(restarted, sender));
                Assert.Equal(AmountWon, await AccountBalanceAsync(bank, external));
                Assert.Equal(remittance.CorporateBefore - AmountWon - BankFeeWon, await CorporateBalanceAsync(bank));
                break;
            case "voided":
                Assert.NotEqual("succeeded", atTheBank);
                Assert.Equal(WalletWon, await BalanceAsync(restarted, sender));
                Assert.Equal(0, await AccountBalanceAsync(bank, external));
                Assert.Equal(remittance.CorporateBefore, await CorporateBalanceAsync(bank));
                break;
            default:
                Assert.Fail($"Remittance {remittance.Id} ended {status}, neither completed nor voided: {final}");
                break;
        }

        await restarted.AssertLedgerReconciledAsync();

        // The same request again answers the final outcome and moves nothing more.
        using var retry = await SendToBankAsync(restarted, sender, external, "crash");
        Assert.Equal(status == "completed" ? HttpStatusCode.OK : HttpStatusCode.UnprocessableEntity, retry.StatusCode);
        Assert.Equal(status == "completed" ? AmountWon : 0, await AccountBalanceAsync(bank, external));
        Assert.Equal(status == "completed" ? WalletWon - AmountWon - FeeWon : WalletWon, await BalanceAsync(restarted, sender));
    }

    [Fact]
    public async Task KilledWhileTheBankIsDown_AccountClosedMeanwhile_AfterRestartItVoidsAndRefundsEveryWon()
    {
        // As above, but the recipient closes the account while the transfer is blocked: once the bank answers,
        // it refuses (account-closed), so the remittance must void and give the sender amount and fee back.
        await using var bank = await BuiltProcess.StartBankAsync();
        var (sender, external, remittance) = await HoldThenKillAsync(bank, new { errorRate = 1.0 }, afterHold: async account =>
        {
            using var closed = await bank.Client.PatchAsJsonAsync($"/banks/{account.BankCode}/accounts/{account.AccountNumber}", new { status = "closed" });
            closed.EnsureSuccessStatusCode();
        });

        await using var restarted = await NodeProcess.StartAsync(database.ConnectionString, bank.BaseAddress, Fast);
        var final = await FinalAsync(restarted, sender, remittance.Location);

        Assert.Equal("voided", final.GetProperty("status").GetString());
        Assert.Equal("account-closed", final.GetProperty("failureReason").GetString());
        Assert.Equal("failed", await TransferStatusAsync(bank, remittance.Id));
        Assert.Equal(WalletWon, await BalanceAsync(restarted, sender));
        Assert.Equal(0, await AccountBalanceAsync(bank, external));
        Assert.Equal(remittance.CorporateBefore, await CorporateBalanceAsync(bank));
        var history = await restarted.GetAsync(sender.Token, $"/v1/members/{sender.Id}/wallet/history");
        var kinds = history.GetProperty("items").EnumerateArray().Select(item => item.GetProperty("kind").GetString()).ToList();
        Assert.Equal(["remittance-void", "remittance-hold", "recharge"], kinds);
        await restarted.AssertLedgerReconciledAsync();
    }

    [Fact]
    public async Task KilledWhileTheBanksAnswersAreLost_AfterRestartTheRemittanceCompletesOnce_NeverVoids()
    {
        // The bank applies the transfer but every answer is lost, so the money has left the corporate account
        // while MyPay does not know it. The node is killed. After a restart the remittance must find out from the
        // bank and complete — voiding here would refund money that was already paid out.
        await using var bank = await BuiltProcess.StartBankAsync();
        var (sender, external, remittance) = await HoldThenKillAsync(bank, new { lostResponseRate = 1.0 }, afterHold: null);

        await using var restarted = await NodeProcess.StartAsync(database.ConnectionString, bank.BaseAddress, Fast);
        var final = await FinalAsync(restarted, sender, remittance.Location);

        Assert.Equal("completed", final.GetProperty("status").GetString());
        Assert.Equal("succeeded", await TransferStatusAsync(bank, remittance.Id));
        Assert.Equal(WalletWon - AmountWon - FeeWon, await BalanceAsync(restarted, sender));
        Assert.Equal(AmountWon, await AccountBalanceAsync(bank, external));
        Assert.Equal(remittance.CorporateBefore - AmountWon - BankFeeWon, await CorporateBalanceAsync(bank));
        await restarted.AssertLedgerReconciledAsync();
    }

    /// <summary>
    /// Starts a node, funds a sender, opens the recipient's account, sets the recipient bank's faults and sends
    /// the remittance: 202 with the hold taken. Then runs <paramref name="afterHold"/>, kills the node with
    /// SIGKILL and clears the faults.
    /// </summary>
    private async Task<(Member Sender, Account External, Pending Remittance)> HoldThenKillAsync(
        BuiltProcess bank, object faults, Func<Account, Task>? afterHold)
    {
        var external = new Account(RecipientBank, $"555-{Random.Shared.Next(1000, 9999)}-{Random.Shared.Next(100_000, 999_999)}");
        using (var opened = await bank.Client.PostAsJsonAsync("/accounts", new { bankCode = external.BankCode, accountNumber = external.AccountNumber, holderName = "이수진", balance = 0 }))
        {
            opened.EnsureSuccessStatusCode();
        }

        await using var node = await NodeProcess.StartAsync(database.ConnectionString, bank.BaseAddress, Fast);
        var sender = await RegisterFundedAsync(node, bank);
        var corporateBefore = await CorporateBalanceAsync(bank);
        using (var faulty = await bank.Client.PutAsJsonAsync($"/faults/{RecipientBank}", faults))
        {
            faulty.EnsureSuccessStatusCode();
        }

        using var response = await SendToBankAsync(node, sender, external, "crash");
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var location = response.Headers.Location!.OriginalString;
        var held = await node.GetAsync(sender.Token, location);
        Assert.Equal("held", held.GetProperty("status").GetString());
        Assert.Equal(WalletWon - AmountWon - FeeWon, await BalanceAsync(node, sender));
        if (afterHold is not null)
        {
            await afterHold(external);
        }

        await node.KillAsync();
        using (var cleared = await bank.Client.DeleteAsync(new Uri("/faults", UriKind.Relative)))
        {
            cleared.EnsureSuccessStatusCode();
        }

        return (sender, external, new Pending(held.GetProperty("remittanceId").GetString()!, location, corporateBefore));
    }

    private static async Task<Member> RegisterFundedAsync(BuiltProcess node, BuiltProcess bank)
    {
        var (id, token) = await node.RegisterWithWalletAsync(bank, WalletWon);
        return new Member(id, token);
    }

    private static Task<HttpResponseMessage> SendToBankAsync(BuiltProcess node, Member sender, Account external, string key) =>
        node.SendAsync(sender.Token, HttpMethod.Post, "/v1/remittances", new { toBankCode = external.BankCode, toAccountNumber = external.AccountNumber, amount = AmountWon }, key);

    /// <summary>Polls the remittance until it is completed, voided or failed (bounded: 45 s).</summary>
    private static async Task<JsonElement> FinalAsync(BuiltProcess node, Member sender, string location)
    {
        var remittance = default(JsonElement);
        for (var attempt = 0; attempt < 225; attempt++)
        {
            remittance = await node.GetAsync(sender.Token, location);
            if (remittance.GetProperty("status").GetString() is "completed" or "voided" or "failed")
            {
                return remittance;
            }

            await Task.Delay(200);
        }

        throw new TimeoutException($"{location} was not final 45 s after the restart: {remittance}\n{node.Output}");
    }

    private static Task<long> BalanceAsync(BuiltProcess node, Member member) => node.BalanceAsync(member.Id, member.Token);

    private static async Task<long> AccountBalanceAsync(BuiltProcess bank, Account account) =>
        (await bank.Client.GetFromJsonAsync<JsonElement>($"/banks/{account.BankCode}/accounts/{account.AccountNumber}")).GetProperty("balance").GetInt64();

    /// <summary>What the bank recorded for the remittance's transfer (its request id is the firmbanking request's): its status, or null if none.</summary>
    private static async Task<string?> TransferStatusAsync(BuiltProcess bank, string remittanceId)
    {
        using var response = await bank.Client.GetAsync(new Uri($"/transfers/remittance:{remittanceId}", UriKind.Relative));
        return response.StatusCode == HttpStatusCode.NotFound ? null : (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString();
    }

    private static async Task<long> CorporateBalanceAsync(BuiltProcess bank) =>
        (await bank.Client.GetFromJsonAsync<JsonElement>("/corporate")).GetProperty("balance").GetInt64();

    private sealed record Member(string Id, string Token);

    private sealed record Account(string BankCode, string AccountNumber);

    private sealed record Pending(string Id, string Location, long CorporateBefore);
}
