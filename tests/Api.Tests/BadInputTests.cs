using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using MyPay.Api.Hosting;

namespace MyPay.Api.Tests;

/// <summary>
/// Input a client should never get through: a body that says two things at once, a request the framework refuses
/// before any handler runs, a field left out. Each is a problem with MyPay's stable type, and nothing moves.
/// </summary>
public sealed class BadInputTests(BankFixture fixture) : IClassFixture<BankFixture>, IAsyncLifetime
{
    private MyPayApp app = null!;

    public async Task InitializeAsync() => app = await fixture.StartNodeAsync();

    public async Task DisposeAsync() => await app.DisposeAsync();

    /// <summary>JSON's last-one-wins would recharge 30,000 won where the client's first field says 10,000: which one was meant is unknowable.</summary>
    [Theory]
    [InlineData("""{"amount":10000,"amount":30000}""")]
    [InlineData("""{"amount":10000,"Amount":30000}""")]
    public async Task Recharge_DuplicateAmount_Is400AndMovesNothing(string body)
    {
        var member = await fixture.FundedMemberAsync(app, bankBalanceWon: 500_000);

        using var response = await member.Client.RechargeAsync(member.Id, body, "duplicate");

        var problem = await response.AssertProblemAsync(400);
        Assert.Equal(Problems.TypeBase + "bad-request", problem.ProblemType());
        Assert.Contains("amount", problem.GetProperty("detail").GetString(), StringComparison.OrdinalIgnoreCase);
        Assert.Equal(0, await member.Client.BalanceAsync(member.Id));
        Assert.Equal(500_000, await fixture.BalanceAsync(member.BankCode!, member.AccountNumber!));
    }

    [Fact]
    public async Task Pay_DuplicateAmount_Is400AndMovesNothing()
    {
        var payer = await fixture.MemberWithWalletAsync(app, 50_000);
        var merchant = await app.RegisterAsync("merchant", "동네 빵집");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/payments")
        {
            Content = new StringContent($$"""{"merchantId":"{{merchant.Id}}","amount":1000,"amount":3000}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("Idempotency-Key", "duplicate");

        using var response = await payer.Client.SendAsync(request);

        await response.AssertProblemAsync(400);
        Assert.Equal(50_000, await payer.Client.BalanceAsync(payer.Id));
    }

    /// <summary>Refusals made before any handler runs (authentication, routing, the body's size and type) read like MyPay's own.</summary>
    [Theory]
    [InlineData("no-token", 401, "unauthenticated")]
    [InlineData("malformed-token", 401, "unauthenticated")]
    [InlineData("member-on-operator-route", 403, "forbidden")]
    [InlineData("unknown-route", 404, "not-found")]
    [InlineData("wrong-method", 405, "method-not-allowed")]
    [InlineData("body-over-the-limit", 413, "body-too-large")]
    [InlineData("chunked-body-over-the-limit", 413, "body-too-large")]
    [InlineData("text-body", 415, "unsupported-media-type")]
    [InlineData("unknown-charset", 415, "unsupported-media-type")]
    [InlineData("text-accepted-only", 401, "unauthenticated")]
    [InlineData("truncated-json", 400, "bad-request")]
    [InlineData("no-body", 400, "bad-request")]
    public async Task FrameworkRefusal_IsProblemWithMyPaysType(string refusal, int status, string type)
    {
        var member = await app.RegisterAsync();
        var tooLarge = $$"""{"merchantId":"m1","amount":1000,"orderId":"{{new string('x', (int)Limits.RequestBodyBytesMax)}}"}""";
        using var anonymous = app.CreateClient();
        var (client, request) = refusal switch
        {
            "no-token" => (anonymous, new HttpRequestMessage(HttpMethod.Get, $"/v1/members/{member.Id}/wallet")),
            "malformed-token" => (anonymous, WithToken(new HttpRequestMessage(HttpMethod.Get, $"/v1/members/{member.Id}/wallet"), "not-a-token")),
            "member-on-operator-route" => (member.Client, new HttpRequestMessage(HttpMethod.Get, "/v1/ledger/check")),
            "unknown-route" => (member.Client, new HttpRequestMessage(HttpMethod.Get, "/v1/nothing-here")),
            "wrong-method" => (member.Client, new HttpRequestMessage(HttpMethod.Delete, "/v1/payments")),
            "body-over-the-limit" => (member.Client, Payment(new StringContent(tooLarge, Encoding.UTF8, "application/json"))),
            "chunked-body-over-the-limit" => (member.Client, Payment(new UnknownLengthContent(tooLarge))),
            "text-body" => (member.Client, Payment(new StringContent("amount=1000", Encoding.UTF8, "text/plain"))),
            "unknown-charset" => (member.Client, Payment(WithContentType(new ByteArrayContent("""{"amount":1000}"""u8.ToArray()), "application/json; charset=nonsense"))),
            "text-accepted-only" => (anonymous, WithAccept(new HttpRequestMessage(HttpMethod.Get, $"/v1/members/{member.Id}/wallet"), "text/html")),
            "truncated-json" => (member.Client, Payment(new StringContent("""{"amount":""", Encoding.UTF8, "application/json"))),
            "no-body" => (member.Client, Payment(null)),
            _ => throw new ArgumentOutOfRangeException(nameof(refusal), refusal, "No such case."),
        };

        using (request)
        {
            using var response = await client.SendAsync(request);

            var problem = await response.AssertProblemAsync(status);
            Assert.Equal(Problems.TypeBase + type, problem.ProblemType());
            Assert.False(string.IsNullOrWhiteSpace(problem.GetProperty("title").GetString()));
        }
    }

    /// <summary>
    /// A chunked body declares no length, so only Kestrel's own limit, met while reading, stops it: the refusal must
    /// still be MyPay's problem. Sent over a socket, as HttpClient gives up writing once the server answers early.
    /// </summary>
    [Fact]
    public async Task ChunkedBodyOverTheLimit_OnKestrel_Is413Problem()
    {
        await using var kestrel = new MyPayApp(fixture.Database.ConnectionString, fixture.Bank.BaseAddress);
        kestrel.UseKestrel(0);
        kestrel.StartServer();
        var member = await kestrel.RegisterAsync();
        var body = Encoding.UTF8.GetBytes($$"""{"merchantId":"m1","amount":1000,"orderId":"{{new string('x', (int)Limits.RequestBodyBytesMax)}}"}""");
        var address = member.Client.BaseAddress!;
        using var connection = new System.Net.Sockets.TcpClient();
        await connection.ConnectAsync(address.Host, address.Port);
        var stream = connection.GetStream();

        var head = $"POST /v1/payments HTTP/1.1\r\nHost: {address.Authority}\r\nAuthorization: Bearer {member.Client.DefaultRequestHeaders.Authorization!.Parameter}\r\n"
            + $"Idempotency-Key: chunked\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n{body.Length:x}\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head));
        await stream.WriteAsync(body);
        await stream.WriteAsync("\r\n0\r\n\r\n"u8.ToArray());
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var response = await reader.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(30));

        Assert.StartsWith("HTTP/1.1 413 ", response, StringComparison.Ordinal);
        Assert.Contains("\r\nContent-Type: application/problem+json", response, StringComparison.OrdinalIgnoreCase);
        Assert.Contains($"\"type\":\"{Problems.TypeBase}body-too-large\"", response, StringComparison.Ordinal);
        Assert.Equal(0, await member.Client.BalanceAsync(member.Id));
    }

    /// <summary>A field left out reads as missing, never as a gap in a sentence ("Refund amount  won ...").</summary>
    [Theory]
    [InlineData("{}")]
    [InlineData("""{"amount":null}""")]
    public async Task Refund_WithoutAmount_SaysTheAmountIsMissing(string body)
    {
        var payer = await fixture.MemberWithWalletAsync(app, 20_000);
        var merchant = await app.RegisterAsync("merchant", "동네 빵집");
        using var paid = await payer.Client.PayAsync(merchant.Id, 10_000, "pay");
        var paymentId = (await paid.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("paymentId").GetString();
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/payments/{paymentId}/refunds") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Add("Idempotency-Key", "missing-amount");

        using var response = await merchant.Client.SendAsync(request);

        var problem = await response.AssertProblemAsync(400);
        AssertSaysMissing(problem.GetProperty("detail").GetString());
        Assert.Equal(10_000, await payer.Client.BalanceAsync(payer.Id));
    }

    [Theory]
    [InlineData("/v1/payments", """{"merchantId":"m1"}""", "amount")]
    [InlineData("/v1/payments", """{"merchantId":"m1","amount":null}""", "amount")]
    [InlineData("/v1/remittances", """{"toMemberId":"m1"}""", "amount")]
    [InlineData("/v1/members/{0}/wallet/recharge", "{}", null)]
    public async Task MoneyRequest_WithoutAmount_SaysTheAmountIsMissing(string route, string body, string? field)
    {
        var member = await app.RegisterAsync();
        using var request = new HttpRequestMessage(HttpMethod.Post, string.Format(System.Globalization.CultureInfo.InvariantCulture, route, member.Id))
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("Idempotency-Key", "missing-amount");

        using var response = await member.Client.SendAsync(request);

        var problem = await response.AssertProblemAsync(400);
        AssertSaysMissing(field is null ? problem.GetProperty("detail").GetString() : problem.GetProperty("errors").GetProperty(field)[0].GetString());
    }

    /// <summary>PostgreSQL's text cannot hold NUL: a string with one is the client's 4xx wherever it is sent, never the database's 500.</summary>
    [Theory]
    [InlineData("anonymous", "POST", "/v1/auth/token", """{"username":"a\u0000b","password":"correct horse battery"}""")]
    [InlineData("anonymous", "POST", "/v1/members", """{"type":"customer","name":"김\u0000민수","email":"nul@example.com","password":"correct horse battery"}""")]
    [InlineData("operator", "GET", "/v1/reports/money-by-region?region=%00", null)]
    [InlineData("operator", "GET", "/v1/reports/money-by-region?region=%EC%84%9C%00", null)]
    [InlineData("merchant", "PUT", "/v1/merchants/{0}/webhook", """{"url":"https://exa\u0000mple.com/hook","secret":"a-secret-0123456789-0123456789"}""")]
    [InlineData("merchant", "PATCH", "/v1/members/{0}", """{"address":"서울\u0000"}""")]
    [InlineData("customer", "POST", "/v1/payments", """{"merchantId":"m1","amount":1000,"orderId":"order\u0000"}""")]
    [InlineData("customer", "POST", "/v1/members/{0}/bank-accounts", """{"bankCode":"004","accountNumber":"123\u0000456"}""")]
    public async Task NulInAString_IsRefusedAsAProblem(string caller, string method, string route, string? body)
    {
        var merchant = await app.RegisterAsync("merchant", "동네 빵집");
        var customer = await app.RegisterAsync();
        using var operatorClient = await app.OperatorAsync();
        using var anonymous = app.CreateClient();
        var (client, memberId) = caller switch
        {
            "operator" => (operatorClient, customer.Id),
            "merchant" => (merchant.Client, merchant.Id),
            "customer" => (customer.Client, customer.Id),
            _ => (anonymous, customer.Id),
        };
        using var request = new HttpRequestMessage(new HttpMethod(method), string.Format(System.Globalization.CultureInfo.InvariantCulture, route, memberId))
        {
            Content = body is null ? null : new StringContent(body, Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("Idempotency-Key", "nul");

        using var response = await client.SendAsync(request);

        Assert.InRange((int)response.StatusCode, 400, 499);
        await response.AssertProblemAsync((int)response.StatusCode);
    }

    /// <summary>An id that is all whitespace would become a grain key Orleans refuses to make: it is simply no such record.</summary>
    [Theory]
    [InlineData("/v1/remittances/%20")]
    [InlineData("/v1/remittances/%C2%85%E2%80%A8")]
    [InlineData("/v1/firmbanking/%20")]
    [InlineData("/v1/firmbanking/%E2%80%A9")]
    public async Task WhitespaceRecordId_Is404Problem(string path)
    {
        using var operatorClient = await app.OperatorAsync();

        using var response = await operatorClient.GetAsync(new Uri(path, UriKind.Relative));

        await response.AssertProblemAsync(404);
    }

    private static void AssertSaysMissing(string? message)
    {
        Assert.NotNull(message);
        Assert.Contains("missing", message, StringComparison.Ordinal);
        Assert.DoesNotContain("  ", message, StringComparison.Ordinal);
        Assert.DoesNotContain(" .", message, StringComparison.Ordinal);
    }

    private static HttpRequestMessage Payment(HttpContent? content)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/payments") { Content = content };
        request.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString());
        return request;
    }

    private static HttpContent WithContentType(HttpContent content, string contentType)
    {
        content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        return content;
    }

    private static HttpRequestMessage WithAccept(HttpRequestMessage request, string mediaType)
    {
        request.Headers.Accept.ParseAdd(mediaType);
        return request;
    }

    private static HttpRequestMessage WithToken(HttpRequestMessage request, string token)
    {
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return request;
    }

    /// <summary>A body whose length is not declared up front (sent chunked), so only reading it can tell it is too large.</summary>
    private sealed class UnknownLengthContent : HttpContent
    {
        private readonly byte[] bytes;

        public UnknownLengthContent(string json)
        {
            bytes = Encoding.UTF8.GetBytes(json);
            Headers.ContentType = new MediaTypeHeaderValue("application/json");
        }

        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => stream.WriteAsync(bytes).AsTask();

        protected override bool TryComputeLength(out long length)
        {
            length = -1;
            return false;
        }
    }
}
