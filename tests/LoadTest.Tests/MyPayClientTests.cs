using System.Net;
using MyPay.LoadTest.Client;

namespace MyPay.LoadTest.Tests;

public class MyPayClientTests
{
    [Fact]
    public async Task PayUrl_TakesPaymentsAndWalletReads_TheNodeTheRest()
    {
        // A peer taking payments in the node's place must also answer for the balances they move; anything else
        // (sign-in, recharges, history, the ledger check) stays with the node.
        var handler = new RecordingHandler();
        var client = new MyPayClient(new HttpSender(new HttpClient(handler), TimeSpan.FromSeconds(5)), new Uri("http://node.test/"), new Uri("http://peer.test/"));

        await client.PayAsync("token", "m1", 1_000, "key-1", CancellationToken.None);
        await client.GetWalletAsync("token", "c1", CancellationToken.None);
        await client.RechargeAsync("c1", "token", 10_000, "key-2", CancellationToken.None);
        await client.CheckLedgerAsync("token", CancellationToken.None);
        await client.GetHistoryPageAsync("token", "c1", 100, cursor: null, CancellationToken.None);

        Assert.Equal(
            ["POST http://peer.test/v1/payments", "GET http://peer.test/v1/members/c1/wallet", "POST http://node.test/v1/members/c1/wallet/recharge",
             "GET http://node.test/v1/ledger/check", "GET http://node.test/v1/members/c1/wallet/history?limit=100"],
            handler.Requests);
    }

    [Fact]
    public async Task WithoutPayUrl_EverythingGoesToTheNode()
    {
        var handler = new RecordingHandler();
        var client = new MyPayClient(new HttpSender(new HttpClient(handler), TimeSpan.FromSeconds(5)), new Uri("http://node.test/"));

        await client.PayAsync("token", "m1", 1_000, "key-1", CancellationToken.None);
        await client.GetWalletAsync("token", "c1", CancellationToken.None);

        Assert.Equal(["POST http://node.test/v1/payments", "GET http://node.test/v1/members/c1/wallet"], handler.Requests);
    }

    private sealed class RecordingHandler : HttpMessageHandler
    {
        public List<string> Requests { get; } = [];

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            lock (Requests)
            {
                Requests.Add($"{request.Method} {request.RequestUri}");
            }

            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent("{}") });
        }
    }
}
