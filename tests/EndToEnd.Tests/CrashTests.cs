using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using MyPay.Testing;

namespace MyPay.EndToEnd.Tests;

/// <summary>
/// A node killed with SIGKILL in the middle of a burst of recharges. Every recharge it acknowledged
/// must be in the database afterwards (acknowledged only after commit), and retrying every request
/// with its key on a new node must credit each exactly once.
/// </summary>
public sealed class CrashTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>
{
    private const long AmountWon = 10_000;

    [Fact]
    public async Task KilledMidBurst_AcknowledgedRechargesSurvive_AndRetriesCreditOnce()
    {
        var acknowledged = new Dictionary<string, long>();
        var tokens = new Dictionary<string, string>();
        string[] members;
        (string Member, string Key)[] requests;
        await using (var node = await NodeProcess.StartAsync(database.ConnectionString))
        {
            foreach (var (id, token) in await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => node.RegisterAsync())))
            {
                tokens[id] = token;
            }

            members = [.. tokens.Keys];
            requests = [.. members.SelectMany(member => Enumerable.Range(0, 10).Select(i => (member, $"{member}-{i}")))];
            var burst = requests.Select(async request =>
            {
                try
                {
                    using var response = await RechargeAsync(node.Client, request.Member, request.Key, tokens[request.Member]);
                    return response.StatusCode == HttpStatusCode.OK ? request.Member : null;
                }
                catch (HttpRequestException)
                {
                    return null;
                }
                catch (TaskCanceledException)
                {
                    return null;
                }
            }).ToList();

            // Kill once some, but not all, have been answered.
            await Task.WhenAny(Task.WhenAll(burst), Task.Delay(TimeSpan.FromMilliseconds(400)));
            await node.KillAsync();
            foreach (var member in await Task.WhenAll(burst))
            {
                if (member is not null)
                {
                    acknowledged[member] = acknowledged.GetValueOrDefault(member) + AmountWon;
                }
            }
        }

        await using var restarted = await NodeProcess.StartAsync(database.ConnectionString);
        foreach (var member in members)
        {
            Assert.True(
                await BalanceAsync(restarted.Client, member, tokens[member]) >= acknowledged.GetValueOrDefault(member),
                $"{member}: an acknowledged recharge was lost.");
        }

        foreach (var (member, key) in requests)
        {
            using var retry = await RechargeAsync(restarted.Client, member, key, tokens[member]);
            Assert.Equal(HttpStatusCode.OK, retry.StatusCode);
        }

        foreach (var member in members)
        {
            Assert.Equal(10 * AmountWon, await BalanceAsync(restarted.Client, member, tokens[member]));
        }
    }

    private static Task<HttpResponseMessage> RechargeAsync(HttpClient client, string member, string key, string token)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/members/{member}/wallet/recharge")
        {
            Content = new StringContent($$"""{"amount":{{AmountWon}}}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("Idempotency-Key", key);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client.SendAsync(request);
    }

    private static async Task<long> BalanceAsync(HttpClient client, string member, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v1/members/{member}/wallet");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await client.SendAsync(request);
        response.EnsureSuccessStatusCode();
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return document.RootElement.GetProperty("balance").GetInt64();
    }
}
