using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using MyPay.Testing;

namespace MyPay.EndToEnd.Tests;

/// <summary>
/// A node killed with SIGKILL in the middle of a burst of recharges, with real processes: the node, the
/// bank simulator, PostgreSQL. Every recharge it acknowledged must survive; money the bank moved must
/// be credited (by the retried request or by the wallet's reminder after restart); and retrying every
/// request with its key must credit each exactly once, matching what left the members' bank accounts.
/// </summary>
public sealed class CrashTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>
{
    private const long AmountWon = 10_000;
    private const long BankBalanceWon = 1_000_000;
    private const int RechargesPerMember = 10;

    [Fact]
    public async Task KilledMidBurst_AcknowledgedRechargesSurvive_AndRetriesCreditOnce()
    {
        await using var bank = await BuiltProcess.StartBankAsync();
        var members = new List<Member>();
        var acknowledged = new Dictionary<string, long>();
        (Member Member, string Key)[] requests;
        await using (var node = await NodeProcess.StartAsync(database.ConnectionString, bank.BaseAddress))
        {
            for (var i = 0; i < 20; i++)
            {
                members.Add(await RegisterFundedAsync(node, bank, i));
            }

            requests = [.. members.SelectMany(member => Enumerable.Range(0, RechargesPerMember).Select(i => (member, $"{member.Id}-{i}")))];
            var burst = requests.Select(async request =>
            {
                try
                {
                    using var response = await RechargeAsync(node.Client, request.Member, request.Key);
                    return response.StatusCode == HttpStatusCode.OK ? request.Member.Id : null;
                }
                catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException)
                {
                    return null;
                }
            }).ToList();

            // Kill once some, but not all, have been answered.
            await Task.WhenAny(Task.WhenAll(burst), Task.Delay(TimeSpan.FromMilliseconds(300)));
            await node.KillAsync();
            foreach (var memberId in await Task.WhenAll(burst))
            {
                if (memberId is not null)
                {
                    acknowledged[memberId] = acknowledged.GetValueOrDefault(memberId) + AmountWon;
                }
            }
        }

        await using var restarted = await NodeProcess.StartAsync(database.ConnectionString, bank.BaseAddress);
        foreach (var member in members)
        {
            Assert.True(
                await BalanceAsync(restarted.Client, member) >= acknowledged.GetValueOrDefault(member.Id),
                $"{member.Id}: an acknowledged recharge was lost.");
        }

        foreach (var (member, key) in requests)
        {
            using var retry = await RechargeAsync(restarted.Client, member, key);
            Assert.Equal(HttpStatusCode.OK, retry.StatusCode);
        }

        foreach (var member in members)
        {
            Assert.Equal(RechargesPerMember * AmountWon, await BalanceAsync(restarted.Client, member));
            var atBank = await bank.Client.GetFromJsonAsync<JsonElement>($"/banks/{member.BankCode}/accounts/{member.AccountNumber}");
            Assert.Equal(BankBalanceWon - (RechargesPerMember * AmountWon), atBank.GetProperty("balance").GetInt64());
        }
    }

    [Fact]
    public async Task KilledWhileTheBankAnswerIsLost_ReminderCompletesTheRechargeAfterRestart_WithoutAnyRetry()
    {
        // The bank applies the transfer but its answers are lost, so the recharge is left pending (202) with
        // the money gone from the member's bank account. The node is then killed. After a restart, with no
        // client retrying anything, the recharge's durable reminder resumes it and the wallet is credited once.
        var fast = new Dictionary<string, string>
        {
            ["Recharge__SynchronousWait"] = "00:00:01",
            ["Recharge__ResumeInterval"] = "00:00:01",
            ["Bank__RetriesMax"] = "0",
        };
        await using var bank = await BuiltProcess.StartBankAsync();
        Member member;
        string location;
        await using (var node = await NodeProcess.StartAsync(database.ConnectionString, bank.BaseAddress, fast))
        {
            member = await RegisterFundedAsync(node, bank, 99);
            using var faults = await bank.Client.PutAsJsonAsync($"/faults/{member.BankCode}", new { lostResponseRate = 1.0 });
            faults.EnsureSuccessStatusCode();

            using var response = await RechargeAsync(node.Client, member, "lost-then-killed");
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            location = response.Headers.Location!.OriginalString;
            await node.KillAsync();
        }

        using (var cleared = await bank.Client.DeleteAsync(new Uri("/faults", UriKind.Relative)))
        {
            cleared.EnsureSuccessStatusCode();
        }

        var moved = await bank.Client.GetFromJsonAsync<JsonElement>($"/banks/{member.BankCode}/accounts/{member.AccountNumber}");
        Assert.Equal(BankBalanceWon - AmountWon, moved.GetProperty("balance").GetInt64());

        await using var restarted = await NodeProcess.StartAsync(database.ConnectionString, bank.BaseAddress, fast);
        JsonElement recharge = default;
        for (var attempt = 0; attempt < 100; attempt++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, location);
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", member.Token);
            using var status = await restarted.Client.SendAsync(request);
            recharge = await status.Content.ReadFromJsonAsync<JsonElement>();
            if (recharge.GetProperty("status").GetString() != "pending")
            {
                break;
            }

            await Task.Delay(200);
        }

        Assert.Equal("succeeded", recharge.GetProperty("status").GetString());
        Assert.Equal(AmountWon, await BalanceAsync(restarted.Client, member));
    }

    private static async Task<Member> RegisterFundedAsync(BuiltProcess node, BuiltProcess bank, int index)
    {
        var (id, token) = await node.RegisterAsync();
        var accountNumber = $"777-{index:D4}-{Random.Shared.Next(100_000, 999_999)}";
        using var opened = await bank.Client.PostAsJsonAsync("/accounts", new { bankCode = "004", accountNumber, holderName = "홍길동", balance = BankBalanceWon });
        opened.EnsureSuccessStatusCode();
        using var link = new HttpRequestMessage(HttpMethod.Post, $"/v1/members/{id}/bank-accounts") { Content = JsonContent.Create(new { bankCode = "004", accountNumber }) };
        link.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var linked = await node.Client.SendAsync(link);
        linked.EnsureSuccessStatusCode();
        return new Member(id, token, "004", accountNumber);
    }

    private static Task<HttpResponseMessage> RechargeAsync(HttpClient client, Member member, string key)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/members/{member.Id}/wallet/recharge")
        {
            Content = new StringContent($$"""{"amount":{{AmountWon}}}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("Idempotency-Key", key);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", member.Token);
        return client.SendAsync(request);
    }

    private static async Task<long> BalanceAsync(HttpClient client, Member member)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v1/members/{member.Id}/wallet");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", member.Token);
        using var response = await client.SendAsync(request);
        response.EnsureSuccessStatusCode();
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return document.RootElement.GetProperty("balance").GetInt64();
    }

    private sealed record Member(string Id, string Token, string BankCode, string AccountNumber);
}
