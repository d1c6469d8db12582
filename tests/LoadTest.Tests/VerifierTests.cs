using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using MyPay.LoadTest.Client;
using MyPay.LoadTest.Preparation;
using MyPay.LoadTest.Running;
using MyPay.LoadTest.Verification;

namespace MyPay.LoadTest.Tests;

/// <summary>
/// Verification against a stub node that keeps a ledger of payments by Idempotency-Key: requests the run left unanswered
/// (a 503 after its retries, as while a node is lost) are sent again with their keys, and then held to "exactly once"
/// like any acknowledged request, whether the node had applied them before or applies them now.
/// </summary>
public sealed class VerifierTests
{
    private const string Customer = "m1";

    [Fact]
    public async Task Verify_UnansweredInTheRun_SentAgainWithTheirKeys_EachInTheLedgerOnce()
    {
        var node = new LedgerNode();
        node.Apply("k1", 100);
        node.Apply("k2", 200); // Applied, but the run's answer was lost: a 503.
        SentRequest[] run = [Paid("k1", 100, "201", node.PaymentIdOf("k1")), Paid("k2", 200, "503 node-unavailable"), Paid("k3", 300, "503 storage-unavailable")];

        var checks = await VerifyAsync(node, run);

        Assert.All(checks, check => Assert.True(check.Passed, $"{check.Name}: {check.Detail}"));
        Assert.Equal(["k2", "k3"], node.Sent.Order(StringComparer.Ordinal));
        var answered = Assert.Single(checks, check => check.Name.StartsWith("every request is answered", StringComparison.Ordinal));
        Assert.Contains("2 requests left unanswered by the run (503 node-unavailable: 1, 503 storage-unavailable: 1), sent again with their keys: 2 acknowledged", answered.Detail, StringComparison.Ordinal);
        Assert.Equal(3, node.Payments.Count);
    }

    [Fact]
    public async Task Verify_ANodeThatAppliesARetriedKeyAgain_Fails()
    {
        var node = new LedgerNode { IgnoresKeys = true };
        node.Apply("k2", 200);
        SentRequest[] run = [Paid("k2", 200, "503 node-unavailable")];

        var checks = await VerifyAsync(node, run);

        Assert.False(Assert.Single(checks, check => check.Name == "every acknowledged request is in the ledger exactly once").Passed);
        Assert.False(Assert.Single(checks, check => check.Name == "no Idempotency-Key is in the ledger twice").Passed);
    }

    [Fact]
    public async Task Verify_ARequestStillUnansweredWhenSentAgain_Fails()
    {
        var node = new LedgerNode { Down = true };
        SentRequest[] run = [Paid("k3", 300, "503 storage-unavailable")];

        var checks = await VerifyAsync(node, run);

        var answered = Assert.Single(checks, check => check.Name.StartsWith("every request is answered", StringComparison.Ordinal));
        Assert.False(answered.Passed);
        Assert.Contains("k3 is still unanswered (503 storage-unavailable; in the run: 503 storage-unavailable)", answered.Detail, StringComparison.Ordinal);
    }

    private static async Task<IReadOnlyList<CheckResult>> VerifyAsync(LedgerNode node, SentRequest[] run)
    {
        var client = new MyPayClient(new HttpSender(new HttpClient(node), TimeSpan.FromSeconds(5)), new Uri("http://node.test/"));
        using var operatorTokens = new TokenKeeper(client, "operator", "password");
        using var customerTokens = new TokenKeeper(client, "customer", "password");
        var verifier = new Verifier(client, operatorTokens, concurrency: 2, status: _ => { });
        return await verifier.VerifyAsync(run, [new Customer(0, Customer, customerTokens)], TimeSpan.FromSeconds(1), seed: 1, CancellationToken.None);
    }

    private static SentRequest Paid(string key, long amountWon, string outcome, string? paymentId = null) =>
        new(Customer, RequestKind.Payment, key, amountWon, int.Parse(outcome[..3], System.Globalization.CultureInfo.InvariantCulture), outcome, paymentId, "shop");

    /// <summary>
    /// One customer's wallet, paid from by key: a key already paid answers its payment again (unless
    /// <see cref="IgnoresKeys"/>, a broken node). While <see cref="Down"/>, every payment is a 503.
    /// </summary>
    private sealed class LedgerNode : HttpMessageHandler
    {
        private readonly Lock gate = new();

        public bool IgnoresKeys { get; init; }

        public bool Down { get; init; }

        public List<(string Key, string PaymentId, long AmountWon)> Payments { get; } = [];

        public ConcurrentBag<string> Sent { get; } = [];

        public string PaymentIdOf(string key) => Payments.First(payment => payment.Key == key).PaymentId;

        public string Apply(string key, long amountWon)
        {
            lock (gate)
            {
                if (!IgnoresKeys && Payments.FirstOrDefault(payment => payment.Key == key) is { PaymentId: { } paid })
                {
                    return paid;
                }

                var paymentId = $"p{Payments.Count + 1}";
                Payments.Add((key, paymentId, amountWon));
                return paymentId;
            }
        }

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var path = request.RequestUri!.AbsolutePath;
            if (path == "/v1/auth/token")
            {
                return Json(HttpStatusCode.OK, """{"accessToken":"token","expiresIn":3600,"subject":"m1"}""");
            }

            if (path == "/v1/payments")
            {
                if (Down)
                {
                    return Json(HttpStatusCode.ServiceUnavailable, """{"type":"https://mypay.example/problems/storage-unavailable"}""");
                }

                var key = request.Headers.GetValues(MyPayClient.IdempotencyKeyHeader).Single();
                Sent.Add(key);
                using var body = JsonDocument.Parse(await request.Content!.ReadAsStringAsync(cancellationToken));
                var amountWon = body.RootElement.GetProperty("amount").GetInt64();
                return Json(HttpStatusCode.Created, Payment(Apply(key, amountWon), amountWon));
            }

            lock (gate)
            {
                return path switch
                {
                    "/v1/ledger/check" => Json(HttpStatusCode.OK, """{"consistent":true,"total":0,"rechargesInFlight":0,"remittancesInFlight":0,"settlementsInFlight":0,"differences":[]}"""),
                    $"/v1/members/{Customer}/wallet" => Json(HttpStatusCode.OK, $$"""{"balance":{{-Payments.Sum(payment => payment.AmountWon)}}}"""),
                    $"/v1/members/{Customer}/wallet/history" => Json(HttpStatusCode.OK, JsonSerializer.Serialize(new
                    {
                        items = Payments.Select(payment => new { kind = "payment", amount = -payment.AmountWon, requestId = payment.PaymentId, idempotencyKey = payment.Key, entryId = $"e-{payment.PaymentId}" }),
                        nextCursor = (string?)null,
                    })),
                    _ when path.StartsWith("/v1/payments/", StringComparison.Ordinal) && Payments.FirstOrDefault(payment => payment.PaymentId == path[13..]) is { PaymentId: not null } found
                        => Json(HttpStatusCode.OK, Payment(found.PaymentId, found.AmountWon)),
                    _ => Json(HttpStatusCode.NotFound, "{}"),
                };
            }
        }

        private static string Payment(string paymentId, long amountWon) =>
            $$"""{"paymentId":"{{paymentId}}","payerId":"{{Customer}}","merchantId":"shop","amount":{{amountWon}},"balance":0,"toppedUp":null}""";

        private static HttpResponseMessage Json(HttpStatusCode status, string body) =>
            new(status) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
    }
}
