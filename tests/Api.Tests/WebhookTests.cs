using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using MyPay.Testing;

namespace MyPay.Api.Tests;

/// <summary>Merchant webhooks: registered by the merchant, delivered in order, signed, and retried while the receiver is down.</summary>
public sealed class WebhookTests(BankFixture fixture) : IClassFixture<BankFixture>, IAsyncLifetime
{
    private const string Secret = "whsec-0123456789abcdef";

    private MyPayApp app = null!;

    public async Task InitializeAsync()
    {
        await fixture.ClearFaultsAsync();
        app = new MyPayApp(
            fixture.Database.ConnectionString,
            fixture.Bank.BaseAddress,
            new Dictionary<string, string> { ["Webhooks:RetryMin"] = "00:00:00.200", ["Webhooks:RetryMax"] = "00:00:02" });
        (await app.CreateReadyClientAsync()).Dispose();
    }

    public Task DisposeAsync() => app.DisposeAsync().AsTask();

    [Fact]
    public async Task AReceiverDownForThirtySeconds_GetsEveryEventAfterItReturns_InOrder_EachSignatureVerifying()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var merchant = await app.RegisterAsync("merchant", "동네 빵집");
        using var registered = await merchant.Client.PutAsJsonAsync($"/v1/merchants/{merchant.Id}/webhook", new { url = receiver.Url.ToString(), secret = Secret });
        Assert.Equal(HttpStatusCode.OK, registered.StatusCode);
        var payer = await fixture.MemberWithWalletAsync(app, 500_000);

        receiver.Down = true;
        var expected = new List<(string Type, string Id)>();
        for (var i = 0; i < 20; i++)
        {
            using var paid = await payer.Client.PayAsync(merchant.Id, 1_000 + i, $"hook-pay-{i}");
            Assert.Equal(HttpStatusCode.Created, paid.StatusCode);
            var paymentId = (await paid.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("paymentId").GetString()!;
            expected.Add(("payment.completed", $"payment.completed:{paymentId}"));
            if (i % 10 == 0)
            {
                using var refunded = await merchant.Client.RefundAsync(paymentId, 500, $"hook-refund-{i}");
                Assert.Equal(HttpStatusCode.Created, refunded.StatusCode);
                var refundId = (await refunded.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("refundId").GetString()!;
                expected.Add(("payment.refunded", $"payment.refunded:{refundId}"));
            }
        }

        await Task.Delay(TimeSpan.FromSeconds(30));
        Assert.Empty(receiver.Received);
        Assert.True(receiver.Refused >= 5, $"The receiver was asked {receiver.Refused} times while down: the webhook is not being retried.");
        receiver.Down = false;

        await WaitForAsync(receiver, expected.Count);

        var delivered = receiver.Received;
        foreach (var (body, signature) in delivered)
        {
            Assert.True(Verifies(body, signature), $"The signature {signature} does not verify the body {body}.");
        }

        var events = delivered.Select(request => JsonDocument.Parse(request.Body).RootElement).ToList();
        Assert.Equal(expected, events.Select(e => (e.GetProperty("type").GetString()!, e.GetProperty("id").GetString()!)).Distinct());
        Assert.All(events, e => Assert.Equal(merchant.Id, e.GetProperty("data").GetProperty("merchantId").GetString()));
    }

    [Fact]
    public async Task ASettlementPaid_ReachesTheMerchantsWebhook_AfterThePaymentsItIncludes()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var merchant = await fixture.FundedMemberAsync(app, bankBalanceWon: 0, name: "정산 상점", type: "merchant");
        using var registered = await merchant.Client.PutAsJsonAsync($"/v1/merchants/{merchant.Id}/webhook", new { url = receiver.Url.ToString(), secret = Secret });
        Assert.Equal(HttpStatusCode.OK, registered.StatusCode);
        var payer = await fixture.MemberWithWalletAsync(app, 100_000);
        using var paid = await payer.Client.PayAsync(merchant.Id, 20_000, "hook-settle-pay");
        Assert.Equal(HttpStatusCode.Created, paid.StatusCode);
        await WaitForAsync(receiver, 1);

        using var operatorClient = await app.OperatorAsync();
        using var run = await operatorClient.PostAsync(new Uri("/v1/settlements/run", UriKind.Relative), null);
        Assert.True(run.IsSuccessStatusCode, $"settlement run: {(int)run.StatusCode}");
        await WaitForAsync(receiver, 2);

        var events = receiver.Received.Select(request => JsonDocument.Parse(request.Body).RootElement).ToList();
        Assert.Equal(["payment.completed", "settlement.paid"], events.Select(e => e.GetProperty("type").GetString()));
        var settlement = events[1].GetProperty("data");
        Assert.Equal(merchant.Id, settlement.GetProperty("merchantId").GetString());
        Assert.Equal(20_000 - events[0].GetProperty("data").GetProperty("commissionWon").GetInt64(), settlement.GetProperty("netWon").GetInt64());
        Assert.All(receiver.Received, request => Assert.True(Verifies(request.Body, request.Signature)));
    }

    [Fact]
    public async Task AWebhook_IsTheMerchantsOwn_AndAnInvalidOneIsRefused()
    {
        var merchant = await app.RegisterAsync("merchant", "꽃집");
        var other = await app.RegisterAsync("merchant", "옆집");
        var customer = await app.RegisterAsync();
        using var operatorClient = await app.OperatorAsync();

        using var notAUrl = await merchant.Client.PutAsJsonAsync($"/v1/merchants/{merchant.Id}/webhook", new { url = "ftp://example.com/hook", secret = Secret });
        await notAUrl.AssertProblemAsync(400);
        using var shortSecret = await merchant.Client.PutAsJsonAsync($"/v1/merchants/{merchant.Id}/webhook", new { url = "https://example.com/hook", secret = "short" });
        await shortSecret.AssertProblemAsync(400);
        using var notHers = await other.Client.PutAsJsonAsync($"/v1/merchants/{merchant.Id}/webhook", new { url = "https://example.com/hook", secret = Secret });
        Assert.Equal(HttpStatusCode.Forbidden, notHers.StatusCode);
        using var aCustomer = await operatorClient.PutAsJsonAsync($"/v1/merchants/{customer.Id}/webhook", new { url = "https://example.com/hook", secret = Secret });
        await aCustomer.AssertProblemAsync(404);
        using var none = await merchant.Client.GetAsync(new Uri($"/v1/merchants/{merchant.Id}/webhook", UriKind.Relative));
        await none.AssertProblemAsync(404);

        using var set = await merchant.Client.PutAsJsonAsync($"/v1/merchants/{merchant.Id}/webhook", new { url = "https://example.com/hook", secret = Secret });
        Assert.Equal(HttpStatusCode.OK, set.StatusCode);
        var read = await operatorClient.GetFromJsonAsync<JsonElement>($"/v1/merchants/{merchant.Id}/webhook");
        Assert.Equal("https://example.com/hook", read.GetProperty("url").GetString());
        Assert.False(read.TryGetProperty("secret", out _));
    }

    private static async Task WaitForAsync(WebhookReceiver receiver, int count)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (receiver.Received.Count < count && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }
    }

    /// <summary>A receiver's check: v1 is the HMAC-SHA256 of "t.body" under the secret.</summary>
    private static bool Verifies(string body, string? signature)
    {
        var parts = (signature ?? "").Split(',').Select(part => part.Split('=', 2)).Where(pair => pair.Length == 2).ToDictionary(pair => pair[0], pair => pair[1]);
        if (!parts.TryGetValue("t", out var t) || !parts.TryGetValue("v1", out var v1) || !long.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out _))
        {
            return false;
        }

        var expected = Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(Secret), Encoding.UTF8.GetBytes($"{t}.{body}")));
        return CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(v1));
    }
}
