using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using MyPay.Testing;
using Xunit.Abstractions;

namespace MyPay.EndToEnd.Tests;

/// <summary>
/// Two MyPay node processes on one PostgreSQL database with the same cluster id, each with its own HTTP, silo and
/// gateway port: one Orleans cluster of two silos (issue 13, item 6). Both silos must be active in the membership
/// table; each wallet must be active once in the whole cluster and answer calls made through either node, so a change
/// made through one node is seen at once through the other; money moved through both must reconcile in the ledger; and
/// after one node is killed with SIGKILL mid-burst, the survivor must take its grains over, keep every payment it or the
/// dead node acknowledged, and apply every retried request exactly once. Each test gets its own database and bank.
/// </summary>
public sealed class TwoNodeClusterTests(ITestOutputHelper output) : IAsyncLifetime
{
    /// <summary>Both nodes are given this id (not the default, so the test shows the setting is what joins them).</summary>
    private const string ClusterId = "mypay-two-node";

    private const string SecondSlot = "second";
    private const string WalletGrainType = "wallet";
    private const long BankBalanceWon = 1_000_000;
    private const long WalletWon = 100_000;
    private const long PaymentWon = 1_000;

    private static readonly TimeSpan JoinWaitMax = TimeSpan.FromSeconds(60);

    /// <summary>
    /// How long the survivor may take to declare the killed silo dead. With Orleans' defaults it probes the other silo
    /// every 5 s (ProbeTimeout) and suspects it after 3 missed probes (NumMissedProbesLimit); with two silos its own vote
    /// is enough to declare it dead. The table is also refreshed every 60 s at the latest, hence the margin.
    /// </summary>
    private static readonly TimeSpan DeathWaitMax = TimeSpan.FromSeconds(120);

    private readonly PostgresDatabase database = new();

    public Task InitializeAsync() => database.InitializeAsync();

    public Task DisposeAsync() => database.DisposeAsync();

    [Fact]
    public async Task TwoNodesOnOneDatabase_FormOneCluster_AndEachNodeServesWalletsActiveOnTheOther()
    {
        await using var cluster = await StartClusterAsync(customerCount: 6);
        var (first, second, merchant, customers) = (cluster.First, cluster.Second, cluster.Merchant, cluster.Customers);
        var hosts = await WalletHostsAsync(cluster);

        foreach (var customer in customers)
        {
            var host = hosts[customer.Id] == first.SiloPort ? first : second;
            var away = cluster.Other(host);
            Assert.Equal(WalletWon, await away.Process.BalanceAsync(customer.Id, customer.Token));

            // Even rounds pay through the node that does not hold the wallet, so the wallet call crosses to the other
            // silo; odd rounds through the one that does. Each change is read back through the other node at once: one
            // activation per wallet in the cluster is what makes it see the change, where a second activation of its
            // own would answer the balance it loaded before.
            var expectedWon = WalletWon;
            for (var round = 0; round < 4; round++)
            {
                var through = round % 2 == 0 ? away : host;
                var readBack = cluster.Other(through);
                using var paid = await PayAsync(through, customer, merchant.Id, $"{customer.Id}-{round}");
                var body = await paid.Content.ReadAsStringAsync();
                Assert.True(paid.StatusCode == HttpStatusCode.Created, $"Payment {round} of {customer.Id} through the {through.Name} node: {(int)paid.StatusCode} {body}");
                expectedWon -= PaymentWon;
                using var payment = JsonDocument.Parse(body);
                Assert.Equal(expectedWon, payment.RootElement.GetProperty("balance").GetInt64());
                Assert.Equal(expectedWon, await readBack.Process.BalanceAsync(customer.Id, customer.Token));
                var stored = await readBack.Process.GetAsync(customer.Token, $"/v1/payments/{payment.RootElement.GetProperty("paymentId").GetString()}");
                Assert.Equal(PaymentWon, stored.GetProperty("amount").GetInt64());
            }
        }

        // Calls through both nodes made no second activation anywhere, and moved none.
        Assert.Equal(hosts, await WalletHostsAsync(cluster));

        // Each node lists both silos, active, each with at least its wallets among its activations, and marks its own.
        static int PortOf(JsonElement silo) => int.Parse(silo.GetProperty("address").GetString()!.Split(':')[^1], CultureInfo.InvariantCulture);
        foreach (var node in new[] { first, second })
        {
            var view = await node.Process.GetAsync(await node.Process.OperatorTokenAsync(), "/v1/cluster");
            var silos = view.GetProperty("silos").EnumerateArray().Where(silo => silo.GetProperty("status").GetString() == "active").ToList();
            Assert.Equal(2, view.GetProperty("activeSilos").GetInt32());
            Assert.Equal(new[] { first.SiloPort, second.SiloPort }.Order(), silos.Select(PortOf).Order());
            Assert.All(silos, silo => Assert.True(silo.GetProperty("activations").GetInt32() >= hosts.Values.Count(port => port == PortOf(silo)), silo.ToString()));
            Assert.Equal(node.SiloPort, PortOf(silos.Single(silo => silo.GetProperty("thisNode").GetBoolean())));
        }

        await first.Process.AssertLedgerReconciledAsync();
        await second.Process.AssertLedgerReconciledAsync();
    }

    [Fact]
    public async Task OneNodeKilledMidBurst_SurvivorTakesItsWalletsOver_AcknowledgedPaymentsSurvive_AndRetriesApplyOnce()
    {
        const int paymentsPerCustomer = 20;
        await using var cluster = await StartClusterAsync(customerCount: 12);
        var (first, second, merchant, customers) = (cluster.First, cluster.Second, cluster.Merchant, cluster.Customers);
        var hostsBefore = await WalletHostsAsync(cluster);
        Assert.True(
            hostsBefore.ContainsValue(second.SiloPort),
            $"Placement put all {customers.Count} wallets on the first node, so none would have to move to the survivor.");

        // Each customer pays its share one request after another, alternating between the nodes, so each wallet is paid
        // through both whichever silo holds it, and the burst is still going when the second node dies: some payments
        // answered, some in flight, some still to send, to a node that is gone or through the survivor to a wallet whose
        // silo is not yet known to be dead.
        PaymentRequest[] requests = [.. customers.SelectMany(customer => Enumerable.Range(0, paymentsPerCustomer).Select(i => new PaymentRequest(customer, $"{customer.Id}-burst-{i}")))];
        var answered = new ConcurrentQueue<Answer>();
        var sinceBurst = Stopwatch.StartNew();
        var burst = customers.Select(async (customer, c) =>
        {
            foreach (var (request, i) in requests.Where(request => request.Payer == customer).Select((request, i) => (request, i)))
            {
                answered.Enqueue(await SendOnceAsync((c + i) % 2 == 0 ? first : second, request, merchant.Id));
            }
        }).ToList();

        // Kill the second node once a quarter of the burst is answered.
        while (answered.Count < requests.Length / 4 && sinceBurst.Elapsed < TimeSpan.FromSeconds(30))
        {
            await Task.Delay(10);
        }

        await second.Process.KillAsync();
        var sinceKill = Stopwatch.StartNew();
        var answeredBeforeKill = answered.Count;
        await Task.WhenAll(burst);
        Answer[] answers = [.. answered];
        Assert.Equal(requests.Length, answers.Length);
        Assert.True(answeredBeforeKill < requests.Length, "The whole burst was answered before the kill; nothing was in flight.");
        output.WriteLine($"Killed the second node {sinceBurst.Elapsed.TotalSeconds - sinceKill.Elapsed.TotalSeconds:F1} s into the burst, {answeredBeforeKill} of {requests.Length} payments answered; the burst ended {sinceKill.Elapsed.TotalSeconds:F1} s after the kill.");
        foreach (var outcome in answers.GroupBy(answer => $"{answer.Through} node: {answer.Status?.ToString(CultureInfo.InvariantCulture) ?? answer.Body}").OrderBy(group => group.Key, StringComparer.Ordinal))
        {
            output.WriteLine($"  {outcome.Key} x {outcome.Count()}");
        }

        await ClusterView.UntilMembershipAsync(
            database.ConnectionString,
            ClusterId,
            new Dictionary<int, int> { [first.SiloPort] = ClusterView.Active, [second.SiloPort] = ClusterView.Dead },
            DeathWaitMax);
        output.WriteLine($"The survivor declared the killed silo dead {sinceKill.Elapsed.TotalSeconds:F1} s after the kill.");

        // Every payment acknowledged before or during the kill, through either node, is there afterwards.
        var acknowledged = answers.Where(answer => answer.Status == (int)HttpStatusCode.Created).ToDictionary(answer => answer.Request.Key, answer => PaymentId(answer.Body), StringComparer.Ordinal);
        Assert.NotEmpty(acknowledged);
        foreach (var answer in answers.Where(answer => acknowledged.ContainsKey(answer.Request.Key)))
        {
            var stored = await first.Process.GetAsync(answer.Request.Payer.Token, $"/v1/payments/{acknowledged[answer.Request.Key]}");
            Assert.Equal(PaymentWon, stored.GetProperty("amount").GetInt64());
        }

        // Every request of the burst, retried with its key through the survivor, is paid: an acknowledged one answers
        // its first payment again, the others are paid now or answer the payment that was made without an answer.
        foreach (var request in requests)
        {
            using var retry = await PayAsync(first, request.Payer, merchant.Id, request.Key);
            var body = await retry.Content.ReadAsStringAsync();
            Assert.True(retry.StatusCode == HttpStatusCode.Created, $"Retry of {request.Key} through the survivor: {(int)retry.StatusCode} {body}");
            if (acknowledged.TryGetValue(request.Key, out var paymentId))
            {
                Assert.Equal(paymentId, PaymentId(body));
            }
        }

        // Each payment counted once: every wallet paid exactly its share of the burst.
        foreach (var customer in customers)
        {
            Assert.Equal(WalletWon - (paymentsPerCustomer * PaymentWon), await first.Process.BalanceAsync(customer.Id, customer.Token));
        }

        // The survivor now holds every wallet, the killed node's included, once.
        var hostsAfter = await WalletHostsAsync(cluster);
        Assert.All(customers, customer => Assert.Equal(first.SiloPort, hostsAfter[customer.Id]));
        await first.Process.AssertLedgerReconciledAsync();

        // Checked last, so the money checks above run in any case. While the survivor does not yet know the other silo
        // is dead, a call to a wallet there fails; the client must be told to retry (503), as for any outage.
        var serverErrors = answers.Where(answer => answer.Status >= 500 && answer.Status != (int)HttpStatusCode.ServiceUnavailable).ToList();
        Assert.True(
            serverErrors.Count == 0,
            $"{serverErrors.Count} payments of the burst failed with a server error other than 503, e.g. {serverErrors.FirstOrDefault()?.Body}. " +
            $"The survivor logged:\n{string.Join("\n", first.Process.Output.Split('\n').Where(line => line.Contains("Exception", StringComparison.Ordinal)).Distinct(StringComparer.Ordinal).Take(10))}");
    }

    [Fact]
    public async Task EventsThroughTwoNodes_ReachEachConsumerOnce_AndAKillMidStreamLosesNoneAndAppliesNoneTwice()
    {
        const int paymentsPerCustomer = 12;
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var cluster = await StartClusterAsync(customerCount: 8);
        var (first, second, merchant, customers) = (cluster.First, cluster.Second, cluster.Merchant, cluster.Customers);
        using (var hooked = await second.Process.SendAsync(
            merchant.Token, HttpMethod.Put, $"/v1/merchants/{merchant.Id}/webhook", new { url = receiver.Url, secret = "two-node-webhook-secret" }))
        {
            Assert.True(hooked.IsSuccessStatusCode, await hooked.Content.ReadAsStringAsync());
        }

        var region = $"세종특별자치시 {Guid.NewGuid():N}";
        foreach (var (customer, i) in customers.Select((customer, i) => (customer, i)))
        {
            using var moved = await (i % 2 == 0 ? first : second).Process.SendAsync(
                customer.Token, HttpMethod.Patch, $"/v1/members/{customer.Id}", new { address = $"{region} {i}" });
            Assert.True(moved.IsSuccessStatusCode, await moved.Content.ReadAsStringAsync());
        }

        // Through both nodes, nothing failing: the one outbox queue is read by one silo, each consumer grain is active
        // once in the cluster, so every payment reaches the merchant's webhook once, and the region report counts each
        // wallet's last balance once.
        foreach (var (customer, i) in customers.Select((customer, i) => (customer, i)))
        {
            using var paid = await PayAsync(i % 2 == 0 ? second : first, customer, merchant.Id, $"{customer.Id}-calm");
            Assert.Equal(HttpStatusCode.Created, paid.StatusCode);
        }

        var calm = await UntilWebhookHasAsync(receiver, customers.Count, first);
        Assert.All(calm.GroupBy(id => id, StringComparer.Ordinal), delivered => Assert.Single(delivered));
        await AssertRegionReportAsync(first, region, customers, paidEach: PaymentWon);

        // A burst through both nodes, the second killed with SIGKILL a quarter in; every request retried through the
        // survivor with its key.
        PaymentRequest[] requests = [.. customers.SelectMany(customer => Enumerable.Range(0, paymentsPerCustomer).Select(i => new PaymentRequest(customer, $"{customer.Id}-stream-{i}")))];
        var answered = 0;
        var burst = customers.Select(async (customer, c) =>
        {
            foreach (var (request, i) in requests.Where(request => request.Payer == customer).Select((request, i) => (request, i)))
            {
                await SendOnceAsync((c + i) % 2 == 0 ? first : second, request, merchant.Id);
                Interlocked.Increment(ref answered);
            }
        }).ToList();
        while (Volatile.Read(ref answered) < requests.Length / 4)
        {
            await Task.Delay(10);
        }

        await second.Process.KillAsync();
        await Task.WhenAll(burst);
        await ClusterView.UntilMembershipAsync(
            database.ConnectionString,
            ClusterId,
            new Dictionary<int, int> { [first.SiloPort] = ClusterView.Active, [second.SiloPort] = ClusterView.Dead },
            DeathWaitMax);
        var paymentIds = new HashSet<string>(StringComparer.Ordinal);
        foreach (var request in requests)
        {
            using var retry = await PayAsync(first, request.Payer, merchant.Id, request.Key);
            var body = await retry.Content.ReadAsStringAsync();
            Assert.True(retry.StatusCode == HttpStatusCode.Created, $"Retry of {request.Key} through the survivor: {(int)retry.StatusCode} {body}");
            paymentIds.Add(PaymentId(body));
        }

        // Nothing lost: every payment's event reaches the webhook (at least once: a delivery the killed node made
        // without recording it is made again). Nothing applied twice: the region report equals the wallets' balances.
        var delivered = await UntilWebhookHasAsync(receiver, customers.Count + paymentIds.Count, first);
        Assert.Superset(paymentIds, delivered.ToHashSet(StringComparer.Ordinal));
        output.WriteLine($"{paymentIds.Count} payments of the burst; the webhook got {delivered.Count - customers.Count} deliveries of them, {delivered.Count - delivered.Distinct(StringComparer.Ordinal).Count()} repeated.");
        await AssertRegionReportAsync(first, region, customers, paidEach: PaymentWon * (paymentsPerCustomer + 1));
        await first.Process.AssertLedgerReconciledAsync();

        // A node lost is an outage, not a fault of the events: no consumer gave up on one.
        Assert.Equal("[]", await DeadLettersAsync(first));
    }

    /// <summary>The dead letters not replayed yet, as the node lists them to operators (JSON).</summary>
    private static async Task<string> DeadLettersAsync(Node node) =>
        (await node.Process.GetAsync(await node.Process.OperatorTokenAsync(), "/v1/events/dead-letters")).GetRawText();

    /// <summary>
    /// The payment ids of the payment.completed events the receiver got, once it has at least <paramref name="distinct"/>
    /// different ones (bounded wait); short of them, the failure shows the dead letters <paramref name="node"/> lists.
    /// </summary>
    private static async Task<List<string>> UntilWebhookHasAsync(WebhookReceiver receiver, int distinct, Node node)
    {
        static List<string> Payments(WebhookReceiver receiver) => [.. receiver.Received
            .Select(request => JsonDocument.Parse(request.Body).RootElement)
            .Where(delivered => delivered.GetProperty("type").GetString() == "payment.completed")
            .Select(delivered => delivered.GetProperty("data").GetProperty("paymentId").GetString()!)];

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        var payments = Payments(receiver);
        while (payments.Distinct(StringComparer.Ordinal).Count() < distinct && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200);
            payments = Payments(receiver);
        }

        var got = payments.Distinct(StringComparer.Ordinal).Count();
        Assert.True(got == distinct, $"The webhook got {got} of {distinct} payments; the dead letters: {(got == distinct ? "" : await DeadLettersAsync(node))}");
        return payments;
    }

    /// <summary>The money-by-region report converges on the customers' wallets: each paid <paramref name="paidEach"/> from <see cref="WalletWon"/>.</summary>
    private static async Task AssertRegionReportAsync(Node node, string region, IReadOnlyCollection<Customer> customers, long paidEach)
    {
        var operatorToken = await node.Process.OperatorTokenAsync();
        var expected = (Members: (long)customers.Count, Balance: customers.Count * (WalletWon - paidEach));
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            var report = await node.Process.GetAsync(operatorToken, $"/v1/reports/money-by-region?region={Uri.EscapeDataString(region)}");
            var reported = (Members: report.GetProperty("members").GetInt64(), Balance: report.GetProperty("balanceWon").GetInt64());
            if (reported == expected || DateTime.UtcNow > deadline)
            {
                Assert.Equal(expected, reported);
                return;
            }

            await Task.Delay(200);
        }
    }

    /// <summary>
    /// The bank and two nodes in one cluster, both silos active in its membership, a merchant, and
    /// <paramref name="customerCount"/> customers registered and linked to a bank account through the two nodes in turn,
    /// each recharged with <see cref="WalletWon"/> through the node that did not register it.
    /// </summary>
    private async Task<TwoNodeCluster> StartClusterAsync(int customerCount)
    {
        var cluster = new TwoNodeCluster(await BuiltProcess.StartBankAsync());
        try
        {
            await StartNodesAsync(cluster, customerCount);
            return cluster;
        }
        catch
        {
            // A test that fails here never gets the cluster to dispose: the processes must not outlive it.
            await cluster.DisposeAsync();
            throw;
        }
    }

    private async Task StartNodesAsync(TwoNodeCluster cluster, int customerCount)
    {
        var first = cluster.First = await StartNodeAsync(cluster.Bank, NodeProcess.FirstSlot);
        var second = cluster.Second = await StartNodeAsync(cluster.Bank, SecondSlot);
        var joined = await ClusterView.UntilMembershipAsync(
            database.ConnectionString,
            ClusterId,
            new Dictionary<int, int> { [first.SiloPort] = ClusterView.Active, [second.SiloPort] = ClusterView.Active },
            JoinWaitMax);
        output.WriteLine($"Both silos were active in the membership table {joined.TotalSeconds:F1} s after the second node answered ready.");

        var (merchantId, merchantToken) = await first.Process.RegisterAsync(type: "merchant");
        cluster.Merchant = new Customer(merchantId, merchantToken);
        for (var i = 0; i < customerCount; i++)
        {
            var registeredThrough = i % 2 == 0 ? first : second;
            var (id, token) = await registeredThrough.Process.RegisterAsync();
            await registeredThrough.Process.LinkNewBankAccountAsync(cluster.Bank, id, token, BankBalanceWon);
            using var recharged = await cluster.Other(registeredThrough).Process.SendAsync(
                token, HttpMethod.Post, $"/v1/members/{id}/wallet/recharge", new { amount = WalletWon }, $"{id}-seed");
            Assert.Equal(HttpStatusCode.OK, recharged.StatusCode);
            cluster.Customers.Add(new Customer(id, token));
        }
    }

    private async Task<Node> StartNodeAsync(BuiltProcess bank, string slot)
    {
        var settings = new Dictionary<string, string> { ["MYPAY_CLUSTER_ID"] = ClusterId };
        var process = await NodeProcess.StartAsync(database.ConnectionString, bank.BaseAddress, settings, slot);
        return new Node(slot, process, NodeProcess.SiloPortOf(database.ConnectionString, slot));
    }

    /// <summary>
    /// The silo port of each customer's wallet activation, asked of the cluster through an Orleans client; fails the
    /// test unless every wallet is active exactly once in the whole cluster.
    /// </summary>
    private async Task<Dictionary<string, int>> WalletHostsAsync(TwoNodeCluster cluster)
    {
        await using var view = await ClusterView.ConnectAsync(database.ConnectionString, ClusterId);
        var activations = await view.ActivationsAsync(WalletGrainType);
        var hosts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var customer in cluster.Customers)
        {
            var silos = activations.GetValueOrDefault(customer.Id) ?? [];
            Assert.True(silos.Count == 1, $"Wallet {customer.Id} has {silos.Count} activations (silo ports: {string.Join(", ", silos)}); one in the cluster is expected.");
            hosts[customer.Id] = silos[0];
        }

        var onFirst = hosts.Values.Count(port => port == cluster.First.SiloPort);
        output.WriteLine($"Wallets on the first node: {onFirst}; on the second: {hosts.Count - onFirst}.");
        return hosts;
    }

    private static async Task<Answer> SendOnceAsync(Node through, PaymentRequest request, string merchantId)
    {
        try
        {
            using var response = await PayAsync(through, request.Payer, merchantId, request.Key);
            return new Answer(request, through.Name, (int)response.StatusCode, await response.Content.ReadAsStringAsync());
        }
        catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException)
        {
            return new Answer(request, through.Name, null, exception.GetType().Name);
        }
    }

    private static Task<HttpResponseMessage> PayAsync(Node through, Customer payer, string merchantId, string key) =>
        through.Process.SendAsync(payer.Token, HttpMethod.Post, "/v1/payments", new { merchantId, amount = PaymentWon }, key);

    private static string PaymentId(string body)
    {
        using var payment = JsonDocument.Parse(body);
        return payment.RootElement.GetProperty("paymentId").GetString()!;
    }

    /// <summary>A node process, named by its slot, and the silo port the cluster's membership knows it by.</summary>
    private sealed record Node(string Name, BuiltProcess Process, int SiloPort) : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => Process.DisposeAsync();
    }

    /// <summary>The processes of one test's cluster, and the members it registered; disposing kills the nodes, then the bank.</summary>
    private sealed class TwoNodeCluster(BuiltProcess bank) : IAsyncDisposable
    {
        public BuiltProcess Bank { get; } = bank;

        public Node First { get; set; } = null!;

        public Node Second { get; set; } = null!;

        public Customer Merchant { get; set; } = null!;

        public List<Customer> Customers { get; } = [];

        public Node Other(Node node) => node == First ? Second : First;

        public async ValueTask DisposeAsync()
        {
            // Set one by one as they start: a node that never started is still null here.
            foreach (var node in new Node?[] { Second, First })
            {
                if (node is not null)
                {
                    await node.DisposeAsync();
                }
            }

            await Bank.DisposeAsync();
        }
    }

    /// <summary>A registered member and its bearer token.</summary>
    private sealed record Customer(string Id, string Token);

    private sealed record PaymentRequest(Customer Payer, string Key);

    /// <summary>What one request of the burst got: its status, or no status and the exception's name when no answer came.</summary>
    private sealed record Answer(PaymentRequest Request, string Through, int? Status, string Body);
}
