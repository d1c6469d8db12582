using System.Net;
using System.Net.Http.Json;
using MyPay.Testing;
using Npgsql;

namespace MyPay.Api.Tests;

/// <summary>
/// The database goes away under a running node (a TCP proxy between them is cut): readiness and the
/// money endpoints answer 503 problems, never 500, and the node recovers by itself when it comes back.
/// </summary>
public sealed class DatabaseOutageTests(BankFixture fixture) : IClassFixture<BankFixture>
{
    [Fact]
    public async Task DatabaseDown_Is503_AndNodeRecoversWhenItReturns()
    {
        var real = new NpgsqlConnectionStringBuilder(fixture.Database.ConnectionString);
        await using var proxy = new TcpProxy(real.Host!, real.Port);
        var throughProxy = new NpgsqlConnectionStringBuilder(fixture.Database.ConnectionString) { Host = "127.0.0.1", Port = proxy.Port, Timeout = 2 };
        await using var app = new MyPayApp(throughProxy.ConnectionString, fixture.Bank.BaseAddress);
        (await app.CreateReadyClientAsync()).Dispose();
        var member = await fixture.FundedMemberAsync(app);
        var client = member.Client;
        using var before = await client.RechargeAsync(member.Id, 10_000, "before");
        Assert.Equal(HttpStatusCode.OK, before.StatusCode);

        proxy.Disconnect();
        using var ready = await client.GetAsync(new Uri("/health/ready", UriKind.Relative));
        await ready.AssertProblemAsync(503);
        using var recharge = await client.RechargeAsync(member.Id, 10_000, "during");
        await recharge.AssertProblemAsync(503);
        using var anonymous = app.CreateClient();
        using var register = await anonymous.PostAsJsonAsync(
            "/v1/members", new { type = "customer", name = "Outage", email = "outage@example.com", password = "correct horse battery" });
        await register.AssertProblemAsync(503);

        proxy.Reconnect();
        await WaitUntilAsync(async () => (await client.GetAsync(new Uri("/health/ready", UriKind.Relative))).IsSuccessStatusCode);

        // The retry of the request that failed with 503 uses the same key, as a client would: credited once overall.
        using var retried = await client.RechargeAsync(member.Id, 10_000, "during");
        Assert.True(retried.StatusCode == HttpStatusCode.OK, $"The retry answered {retried.StatusCode}: {await retried.Content.ReadAsStringAsync()}");
        Assert.Equal(20_000, await client.BalanceAsync(member.Id));
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        for (var attempt = 0; attempt < 100; attempt++)
        {
            if (await condition())
            {
                return;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException("Condition not met within 10 seconds.");
    }
}
