using System.Diagnostics;
using System.Net;
using MyPay.Api.Hosting;

namespace MyPay.Api.Tests;

/// <summary>
/// The node's request log: one line per request, written in the request's trace; and nothing in any log that could
/// sign in or move money (passwords, bearer tokens, Idempotency-Keys, full account numbers).
/// </summary>
public sealed class RequestLoggingTests(BankFixture fixture) : IClassFixture<BankFixture>
{
    [Fact]
    public async Task EachRequest_IsOneLine_WithItsMethodPathStatusAndTrace()
    {
        var logs = new LogCollector();
        await using var app = new MyPayApp(fixture.Database.ConnectionString, fixture.Bank.BaseAddress, logs: logs);
        using var operatorClient = await app.OperatorAsync();
        var traceId = ActivityTraceId.CreateRandom();
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("/v1/reports/live", UriKind.Relative));
        request.Headers.Add("traceparent", $"00-{traceId}-{ActivitySpanId.CreateRandom()}-01");

        using var response = await operatorClient.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var lines = await WaitForAsync(logs, entry => entry.Category == RequestLogging.Category && entry.Message.Contains("/v1/reports/live", StringComparison.Ordinal));
        var line = Assert.Single(lines);
        Assert.Equal(traceId.ToString(), line.TraceId);
        Assert.Contains("GET", line.Message, StringComparison.Ordinal);
        Assert.Contains("200", line.Message, StringComparison.Ordinal);
        Assert.Contains("Duration", line.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NoLog_CarriesAPasswordATokenAnIdempotencyKeyOrAnAccountNumber()
    {
        var logs = new LogCollector();
        await using var app = new MyPayApp(fixture.Database.ConnectionString, fixture.Bank.BaseAddress, logs: logs);
        var member = await fixture.FundedMemberAsync(app);
        var merchant = await app.RegisterAsync("merchant", "로그 상점");
        const string rechargeKey = "recharge-key-that-must-not-be-logged";
        const string paymentKey = "payment-key-that-must-not-be-logged";
        using (var recharged = await member.Client.RechargeAsync(member.Id, 50_000, rechargeKey))
        {
            Assert.Equal(HttpStatusCode.OK, recharged.StatusCode);
        }

        using (var paid = await member.Client.PayAsync(merchant.Id, 10_000, paymentKey))
        {
            Assert.Equal(HttpStatusCode.Created, paid.StatusCode);
        }

        await WaitForAsync(logs, entry => entry.Category == RequestLogging.Category && entry.Message.Contains("/v1/payments", StringComparison.Ordinal));
        var token = member.Client.DefaultRequestHeaders.Authorization!.Parameter!;
        string[] secrets = ["correct horse battery", MyPayApp.OperatorPassword, token, rechargeKey, paymentKey, member.AccountNumber!];
        var entries = logs.Entries;
        Assert.Contains(entries, entry => entry.Category == RequestLogging.Category && entry.Message.Contains("/bank-accounts", StringComparison.Ordinal));
        Assert.Empty(entries.Where(entry => secrets.Any(secret => entry.Text.Contains(secret, StringComparison.Ordinal))).Select(entry => $"{entry.Category}: {entry.Text}"));
    }

    /// <summary>The entries matching <paramref name="match"/> once there is one: the request line is written as the response completes.</summary>
    private static async Task<List<LogCollector.Entry>> WaitForAsync(LogCollector logs, Func<LogCollector.Entry, bool> match)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!logs.Entries.Any(match) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        return [.. logs.Entries.Where(match)];
    }
}
