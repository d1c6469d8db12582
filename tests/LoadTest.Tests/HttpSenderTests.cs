using System.Net;
using MyPay.LoadTest.Client;

namespace MyPay.LoadTest.Tests;

public class HttpSenderTests
{
    private static readonly Uri node = new("http://node.test/");

    [Fact]
    public async Task Pay_After5xxAndTimeout_RetriesWithTheSameKeyAndBody()
    {
        var handler = new ScriptedHandler(
            _ => Respond(HttpStatusCode.ServiceUnavailable, """{"type":"https://mypay.example/problems/bank-unavailable"}"""),
            _ => throw new TaskCanceledException("slow"),
            _ => Respond(HttpStatusCode.Created, """{"paymentId":"p1"}"""));
        var client = Client(handler, TimeSpan.FromSeconds(5));

        var reply = await client.PayAsync("token", "merchant-1", 500, "key-1", CancellationToken.None);

        Assert.Equal(201, reply.StatusCode);
        Assert.Equal(2, reply.Retries);
        Assert.Equal(["key-1", "key-1", "key-1"], handler.Keys);
        Assert.Single(handler.Bodies.Distinct());
    }

    [Fact]
    public async Task Send_4xx_IsNotRetried_AndNamesTheProblemType()
    {
        var handler = new ScriptedHandler(_ => Respond(HttpStatusCode.UnprocessableEntity, """{"type":"https://mypay.example/problems/insufficient-funds","title":"t"}"""));

        var reply = await Client(handler, TimeSpan.FromSeconds(5)).PayAsync("token", "merchant-1", 500, "key-1", CancellationToken.None);

        Assert.Equal("422 insufficient-funds", reply.Outcome);
        Assert.Equal(0, reply.Retries);
        Assert.False(reply.IsUnknown);
        Assert.Single(handler.Keys);
    }

    [Fact]
    public async Task Send_NoAnswerEver_GivesUpAfterTheAttemptBound_AsUnknown()
    {
        var handler = new ScriptedHandler((Func<CancellationToken, HttpResponseMessage>)(_ => throw new HttpRequestException("refused", null, HttpStatusCode.ServiceUnavailable)));

        var reply = await Client(handler, TimeSpan.FromSeconds(5)).RechargeAsync("m1", "token", 10_000, "key-2", CancellationToken.None);

        Assert.Equal(0, reply.StatusCode);
        Assert.True(reply.IsUnknown);
        Assert.Equal(HttpSender.AttemptsMax - 1, reply.Retries);
        Assert.Equal(HttpSender.AttemptsMax, handler.Keys.Count);
        Assert.StartsWith("network", reply.Outcome, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Send_AttemptSlowerThanTheTimeout_IsAbandonedAndRetried()
    {
        var calls = 0;
        var handler = new ScriptedHandler(async cancellationToken =>
        {
            if (Interlocked.Increment(ref calls) == 1)
            {
                await Task.Delay(TimeSpan.FromSeconds(30), cancellationToken);
            }

            return Respond(HttpStatusCode.OK, """{"rechargeId":"r1","amount":10000,"status":"succeeded","balance":10000}""");
        });

        var reply = await Client(handler, TimeSpan.FromMilliseconds(200)).RechargeAsync("m1", "token", 10_000, "key-3", CancellationToken.None);

        Assert.Equal(200, reply.StatusCode);
        Assert.Equal(1, reply.Retries);
        Assert.Equal(["key-3", "key-3"], handler.Keys);
    }

    private static MyPayClient Client(HttpMessageHandler handler, TimeSpan attemptTimeout) =>
        new(new HttpSender(new HttpClient(handler), attemptTimeout), node);

    private static HttpResponseMessage Respond(HttpStatusCode status, string json) =>
        new(status) { Content = new StringContent(json, System.Text.Encoding.UTF8, "application/json") };

    /// <summary>Answers each attempt with the next step (the last repeats), and records what each attempt sent.</summary>
    private sealed class ScriptedHandler(params Func<CancellationToken, Task<HttpResponseMessage>>[] steps) : HttpMessageHandler
    {
        private int attempt;

        public ScriptedHandler(params Func<CancellationToken, HttpResponseMessage>[] steps)
            : this(steps.Select(step => (Func<CancellationToken, Task<HttpResponseMessage>>)(token => Task.FromResult(step(token)))).ToArray())
        {
        }

        public List<string> Keys { get; } = [];

        public List<string> Bodies { get; } = [];

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            lock (Keys)
            {
                Keys.Add(request.Headers.TryGetValues(MyPayClient.IdempotencyKeyHeader, out var keys) ? keys.Single() : "");
            }

            Bodies.Add(request.Content is null ? "" : await request.Content.ReadAsStringAsync(cancellationToken));
            var step = steps[Math.Min(Interlocked.Increment(ref attempt) - 1, steps.Length - 1)];
            return await step(cancellationToken);
        }
    }
}
