using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using MyPay.LoadTest.Reporting;
using MyPay.Testing;
using Npgsql;
using Xunit.Abstractions;

namespace MyPay.EndToEnd.Tests;

/// <summary>
/// Issue 18: a cluster of nodes behind nginx, under load, loses a node (SIGKILL), has one stopped (SIGTERM), gains one,
/// is restarted node by node, and loses its database for 10 s. The load is MyPay's own client (src/LoadTest) paying
/// through nginx at a steady rate; afterwards it sends every request it left unanswered again with its key and holds
/// every answer to the ledger: no acknowledged payment lost, none applied twice, the ledger balanced. Errors may only
/// be 503s (retry with the same key), never a 500, and they must stop by themselves. Probe wallets that lived on the
/// lost node show when its grains are active again elsewhere. Each test prints its figures (<see cref="TestReport"/>).
/// The tests run alone (no other test's processes beside them) and each has its own database.
/// </summary>
[Collection(Alone)]
public sealed class NodeLossTests(ITestOutputHelper output) : IAsyncLifetime
{
    public const string Alone = "node loss";

    private const int Nodes = 3;
    private const int ProbeCount = 12;
    private const long ProbeWalletWon = 100_000;
    private const long ProbePaymentWon = 100;

    /// <summary>
    /// Pay, paced at 200 requests a second by 24 workers over 30 customers and 5 merchants, until interrupted (5 min at
    /// most); an attempt that gets no answer within 20 s is sent again with its key, as is one answered with a 5xx.
    /// </summary>
    private static readonly string[] Load =
    [
        "--scenario", "pay", "--members", "30", "--merchants", "5", "--concurrency", "24", "--rate", "200",
        "--warmup", "1", "--duration", "300", "--request-timeout", "20", "--settle", "60",
    ];

    /// <summary>Load before the disturbance, so it meets a cluster at work.</summary>
    private static readonly TimeSpan LeadIn = TimeSpan.FromSeconds(6);

    /// <summary>Load after the cluster is whole again, which must be answered without errors.</summary>
    private static readonly TimeSpan Tail = TimeSpan.FromSeconds(6);

    /// <summary>Answers this long after the cluster is whole again may still be the disturbance's (a retry's last attempt).</summary>
    private static readonly TimeSpan Settling = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How long a lost node's grains may take to be active elsewhere, and its silo to be declared dead. With Orleans'
    /// defaults (README, "Several nodes") a silo that stops answering is suspected after 3 missed probes of 2.5 to 20 s
    /// each and declared dead on 2 votes, 10 to 20 s on an idle machine; a noisy one stretches probes, hence the margin.
    /// </summary>
    private static readonly TimeSpan RecoveryWaitMax = TimeSpan.FromSeconds(120);

    private static readonly TimeSpan JoinWaitMax = TimeSpan.FromSeconds(60);

    /// <summary>The database outage: every node's connections cut and refused for this long.</summary>
    private static readonly TimeSpan Outage = TimeSpan.FromSeconds(10);

    private readonly PostgresDatabase database = new();
    private readonly string clusterId = $"node-loss-{Guid.NewGuid():N}"[..24];

    public Task InitializeAsync() => database.InitializeAsync();

    public Task DisposeAsync() => database.DisposeAsync();

    [Fact]
    public Task NodeKilledUnderLoad_ItsWalletsPayAgainOnTheOthers_NothingLostNorAppliedTwice() =>
        LoseANodeAsync($"node killed (SIGKILL), {Nodes} nodes behind nginx", async (cluster, victim, orphans) =>
        {
            await cluster.KillAsync(victim);
            var killed = Stopwatch.StartNew();
            var dead = cluster.UntilMembershipAsync(new Dictionary<string, int> { [victim] = ClusterView.Dead }, RecoveryWaitMax);
            var backAfter = await PayAgainAsync(cluster, orphans, killed);
            var deadAfter = await dead;
            return $"{orphans.Count} wallets of the killed node paid again {backAfter.TotalSeconds:F1} s after the kill (the slowest); its silo declared dead after {deadAfter.TotalSeconds:F1} s";
        });

    [Fact]
    public Task NodeStoppedUnderLoad_LeavesTheCluster_ItsWalletsPayOnTheOthers_NothingLostNorAppliedTwice() =>
        LoseANodeAsync($"node stopped (SIGTERM), {Nodes} nodes behind nginx", async (cluster, victim, orphans) =>
        {
            var dead = cluster.UntilMembershipAsync(new Dictionary<string, int> { [victim] = ClusterView.Dead }, RecoveryWaitMax);
            var stopping = Stopwatch.StartNew();
            await cluster.StopAsync(victim);
            var stoppedAfter = stopping.Elapsed;
            var backAfter = await PayAgainAsync(cluster, orphans, Stopwatch.StartNew());
            var deadAfter = await dead;
            return $"the node exited (code 0) {stoppedAfter.TotalSeconds:F1} s after SIGTERM; its {orphans.Count} wallets paid again {backAfter.TotalSeconds:F1} s after it exited; dead in the membership table {deadAfter.TotalSeconds:F1} s after SIGTERM";
        });

    [Fact]
    public async Task NodeAddedUnderLoad_JoinsAndServesThroughNginx_NothingLostNorAppliedTwice()
    {
        const string added = "node3";
        await using var cluster = await BalancedCluster.StartAsync(database.ConnectionString, database.ConnectionString, clusterId, nodes: 2);
        TimeSpan readyAfter = default, activeAfter = default, servingAfter = default;

        var run = await UnderLoadAsync(cluster, async () =>
        {
            var starting = Stopwatch.StartNew();
            await cluster.StartNodeAsync(added);
            readyAfter = starting.Elapsed;
            await cluster.UntilMembershipAsync(cluster.Slots.ToDictionary(slot => slot, _ => ClusterView.Active), JoinWaitMax);
            activeAfter = starting.Elapsed;
            await cluster.BalanceOverEveryNodeAsync();
            var reloaded = Stopwatch.StartNew();
            await UntilAnsweredByAsync(cluster, added);
            servingAfter = reloaded.Elapsed;
        });

        var payments = await PaymentsAnsweredAsync(cluster[added]);
        Assert.True(payments > 0, $"The added node answered no payment through nginx: {await cluster.Nginx.ErrorLogAsync()}");
        AssertKeptItsPromises(cluster, run);
        Report(
            run,
            "node added (2 → 3 nodes) and nginx reloaded",
            $"the new node was ready {readyAfter.TotalSeconds:F1} s after it started, its silo active after {activeAfter.TotalSeconds:F1} s; nginx sent it requests {servingAfter.TotalSeconds:F1} s after the reload, and it answered {payments:N0} payments (201)");
    }

    [Fact]
    public async Task RollingRestartUnderLoad_EachNodeStoppedAndStartedAgainInTurn_NothingLostNorAppliedTwice()
    {
        await using var cluster = await BalancedCluster.StartAsync(database.ConnectionString, database.ConnectionString, clusterId, Nodes);
        var steps = new List<string>();

        var run = await UnderLoadAsync(cluster, async () =>
        {
            foreach (var slot in cluster.Slots)
            {
                var step = Stopwatch.StartNew();
                await cluster.StopAsync(slot);
                var stopped = step.Elapsed;
                await cluster.StartNodeAsync(slot);
                var ready = step.Elapsed;
                await cluster.UntilMembershipAsync(cluster.Slots.ToDictionary(node => node, _ => ClusterView.Active), JoinWaitMax);
                steps.Add($"{slot} stopped in {stopped.TotalSeconds:F1} s, ready again {(ready - stopped).TotalSeconds:F1} s later, active {(step.Elapsed - ready).TotalSeconds:F1} s after that");
            }
        });

        AssertKeptItsPromises(cluster, run);
        Report(run, $"rolling restart of {Nodes} nodes (SIGTERM, start again, wait until active, next)", string.Join("; ", steps));
    }

    [Fact]
    public async Task DatabaseAwayUnderLoad_Answers503NeverA500_RecoversByItself_NothingLostNorAppliedTwice()
    {
        // Every node reaches PostgreSQL through one proxy the test cuts: its connections broken, new ones refused. The
        // test reads the membership table straight.
        var real = new NpgsqlConnectionStringBuilder(database.ConnectionString);
        await using var proxy = new TcpProxy(real.Host!, real.Port);
        var throughProxy = new NpgsqlConnectionStringBuilder(database.ConnectionString) { Host = "127.0.0.1", Port = proxy.Port }.ConnectionString;
        await using var cluster = await BalancedCluster.StartAsync(throughProxy, database.ConnectionString, clusterId, Nodes);
        var probes = await RegisterProbesAsync(cluster, count: 3);
        TimeSpan backAfter = default;

        var run = await UnderLoadAsync(cluster, async () =>
        {
            proxy.Disconnect();
            await Task.Delay(Outage);
            proxy.Reconnect();
            var reconnected = Stopwatch.StartNew();
            backAfter = await PayAgainAsync(cluster, probes, reconnected);
        });

        // No node was lost to the outage: every silo is still the active one of its slot.
        var membership = await ClusterView.MembershipAsync(database.ConnectionString, clusterId);
        Assert.All(cluster.Slots, slot => Assert.Equal(ClusterView.Active, membership[cluster.SiloPortOf(slot)]));
        await AssertProbesPaidOnceAsync(cluster, probes, probes, victim: null);
        Assert.True(run.Report.Errors > 0, $"No request failed during the {Outage.TotalSeconds} s outage: it was not felt.");
        AssertKeptItsPromises(cluster, run);
        Report(
            run,
            $"PostgreSQL away for {Outage.TotalSeconds:F0} s, {Nodes} nodes behind nginx",
            $"payments succeeded again {backAfter.TotalSeconds:F1} s after the database came back; every silo stayed active");
    }

    /// <summary>
    /// A cluster of <see cref="Nodes"/> loses, under load, the node holding the most probe wallets: <paramref name="lose"/>
    /// takes it away, waits until its wallets pay again elsewhere, and returns its figures. Then every probe wallet holds
    /// what it should, the lost node's once more active on another silo, and the load kept its promises.
    /// </summary>
    private async Task LoseANodeAsync(string what, Func<BalancedCluster, string, List<Member>, Task<string>> lose)
    {
        await using var cluster = await BalancedCluster.StartAsync(database.ConnectionString, database.ConnectionString, clusterId, Nodes);
        var probes = await RegisterProbesAsync(cluster, ProbeCount);
        var (victim, orphans) = await MostWalletsAsync(cluster, probes);
        var figures = "";

        var run = await UnderLoadAsync(cluster, async () => figures = await lose(cluster, victim, orphans));

        await AssertProbesPaidOnceAsync(cluster, probes, orphans, victim);
        AssertKeptItsPromises(cluster, run);
        Report(run, what, figures);
    }

    /// <summary>
    /// Runs the load through nginx; once it has paid for <see cref="LeadIn"/>, disturbs the cluster (<paramref name="disturb"/>
    /// returns once the cluster is whole again), lets it pay for <see cref="Tail"/> more, interrupts it, and returns its
    /// report and when the disturbance began and ended.
    /// </summary>
    private async Task<LoadRun> UnderLoadAsync(BalancedCluster cluster, Func<Task> disturb)
    {
        await using var load = LoadTestProcess.Start(cluster.Url, cluster.Bank.BaseAddress, NodeProcess.OperatorPassword, Load);
        try
        {
            await load.Loading.WaitAsync(TimeSpan.FromMinutes(3));
            await Task.Delay(LeadIn);
            var disturbedAt = DateTimeOffset.UtcNow;
            await disturb();
            var wholeAt = DateTimeOffset.UtcNow;
            await Task.Delay(Tail);
            await load.InterruptAsync();
            var (exitCode, report) = await load.ResultAsync(TimeSpan.FromMinutes(5));
            return new LoadRun(exitCode, report, disturbedAt, wholeAt, load.Log);
        }
        catch
        {
            output.WriteLine($"The load test's log:\n{load.Log}\nnginx's error log:\n{await cluster.Nginx.ErrorLogAsync()}");
            throw;
        }
    }

    /// <summary>
    /// What every disturbance must leave true: the load client verified every answer against the ledger (nothing
    /// acknowledged lost, nothing applied twice, every request it left unanswered answered when sent again with its
    /// key, the ledger balanced); every error was a 503; and none came once the cluster had been whole for <see cref="Settling"/>.
    /// </summary>
    private static void AssertKeptItsPromises(BalancedCluster cluster, LoadRun run)
    {
        var report = run.Report;
        var failed = report.Verification.Checks.Where(check => !check.Passed).Select(check => $"{check.Name}: {check.Detail}");
        Assert.True(
            run.ExitCode == 0 && report.Verification.Passed,
            $"The load test exited with {run.ExitCode}; verification {(report.Verification.Passed ? "passed" : "failed")}: {string.Join("; ", failed)} {report.Verification.Incomplete}\n{run.Log}");

        var not503 = report.ErrorsByStatus.Keys.Where(outcome => !outcome.StartsWith("503 ", StringComparison.Ordinal)).ToList();
        Assert.True(
            not503.Count == 0,
            $"Answers other than 503: {string.Join(", ", not503.Select(outcome => $"{outcome} x {report.ErrorsByStatus[outcome]} (e.g. {report.ErrorExamples.GetValueOrDefault(outcome)})"))}. {cluster.Faults()}");

        var lateErrors = report.Timeline.Where(second => second.Errors > 0 && report.StartedAt.AddSeconds(second.Second) >= run.WholeAt + Settling).ToList();
        Assert.True(
            lateErrors.Count == 0,
            $"Errors {Settling.TotalSeconds} s and more after the cluster was whole again, at {string.Join(", ", lateErrors.Select(second => $"+{SinceDisturbed(run, second.Second):F0} s ({second.Errors})"))} from the disturbance.");
    }

    /// <summary>Prints the run's figures: what was sent and answered, errors by status, when answers were disturbed, <paramref name="figures"/>.</summary>
    private void Report(LoadRun run, string what, string figures)
    {
        var report = run.Report;
        var disturbed = report.Timeline.Where(second => second.Errors > 0 || second.Retried > 0).Select(second => second.Second).ToList();
        var errors = report.Errors == 0 ? "no errors" : $"errors {report.Errors:N0} ({string.Join(", ", report.ErrorsByStatus.Select(outcome => $"{outcome.Key}: {outcome.Value:N0}"))})";
        var window = disturbed.Count == 0
            ? "no answer needed a retry"
            : $"answers with errors or retries between +{Math.Max(0, Math.Floor(SinceDisturbed(run, disturbed.Min()))):F0} and +{Math.Ceiling(SinceDisturbed(run, disturbed.Max() + 1)):F0} s from the disturbance";
        var resent = report.Verification.Checks.Single(check => check.Name.StartsWith("every request is answered", StringComparison.Ordinal)).Detail;
        TestReport.WriteLine(
            output,
            $"{what}: {report.Requests:N0} payments at {report.ThroughputPerSecond:N0}/s, {report.Ok:N0} acknowledged, {errors}, {report.Retries:N0} retries; {window}; the disturbance lasted {(run.WholeAt - run.DisturbedAt).TotalSeconds:F1} s");
        TestReport.WriteLine(output, $"  {figures}; {resent}; verified: nothing acknowledged lost, nothing applied twice, ledger balanced");
    }

    /// <summary>Seconds from the disturbance's start to the start of the timeline's <paramref name="second"/>.</summary>
    private static double SinceDisturbed(LoadRun run, int second) => (run.Report.StartedAt.AddSeconds(second) - run.DisturbedAt).TotalSeconds;

    /// <summary>Customers registered through nginx, each with a linked account and <see cref="ProbeWalletWon"/> in the wallet: wallets whose host the test knows.</summary>
    private static async Task<List<Member>> RegisterProbesAsync(BalancedCluster cluster, int count)
    {
        var registered = await Task.WhenAll(Enumerable.Range(0, count).Select(_ => cluster.Client.RegisterWithWalletAsync(cluster.Bank.Client, ProbeWalletWon)));
        var merchant = await cluster.Client.RegisterAsync(type: "merchant");
        return [.. registered.Select(member => new Member(member.Id, member.Token, merchant.Id))];
    }

    /// <summary>The slot whose silo holds the most of the probes' wallets (at least one, as there are more probes than nodes), and those wallets.</summary>
    private static async Task<(string Slot, List<Member> Wallets)> MostWalletsAsync(BalancedCluster cluster, List<Member> probes)
    {
        var slots = await cluster.WalletSlotsAsync(probes.Select(probe => probe.Id));
        var victim = slots.Values.GroupBy(slot => slot, StringComparer.Ordinal).MaxBy(wallets => wallets.Count())!.Key;
        return (victim, [.. probes.Where(probe => slots[probe.Id] == victim)]);
    }

    /// <summary>
    /// Pays <see cref="ProbePaymentWon"/> from each wallet through nginx, each under one key, sent again after every 503
    /// until it is paid; returns the time from <paramref name="since"/> until the last of them was. Any answer but a 201
    /// or a 503 fails the test; so does a wallet not paid within <see cref="RecoveryWaitMax"/>.
    /// </summary>
    private static async Task<TimeSpan> PayAgainAsync(BalancedCluster cluster, IEnumerable<Member> wallets, Stopwatch since)
    {
        var paid = await Task.WhenAll(wallets.Select(async wallet =>
        {
            var answers = new Dictionary<string, int>(StringComparer.Ordinal);
            while (true)
            {
                using var response = await cluster.Client.SendAsync(
                    wallet.Token, HttpMethod.Post, "/v1/payments", new { merchantId = wallet.MerchantId, amount = ProbePaymentWon }, $"probe-{wallet.Id}");
                if (response.StatusCode == HttpStatusCode.Created)
                {
                    return since.Elapsed;
                }

                var body = await response.Content.ReadAsStringAsync();
                Assert.True(response.StatusCode == HttpStatusCode.ServiceUnavailable, $"The probe payment of wallet {wallet.Id} answered {(int)response.StatusCode}: {body}");
                using var problem = JsonDocument.Parse(body);
                var type = problem.RootElement.GetProperty("type").GetString()!;
                answers[type] = answers.GetValueOrDefault(type) + 1;
                Assert.True(
                    since.Elapsed < RecoveryWaitMax,
                    $"Wallet {wallet.Id} was not paid within {RecoveryWaitMax.TotalSeconds} s; answers: {string.Join(", ", answers.Select(answer => $"{answer.Key} x {answer.Value}"))}");
                await Task.Delay(100);
            }
        }));
        return paid.Max();
    }

    /// <summary>
    /// Each probe wallet holds exactly what it should (paid once if it was among <paramref name="paid"/>, else untouched),
    /// and is active exactly once in the cluster, on a silo other than <paramref name="victim"/>'s.
    /// </summary>
    private static async Task AssertProbesPaidOnceAsync(BalancedCluster cluster, List<Member> probes, List<Member> paid, string? victim)
    {
        foreach (var probe in probes)
        {
            Assert.Equal(ProbeWalletWon - (paid.Contains(probe) ? ProbePaymentWon : 0), await cluster.Client.BalanceAsync(probe.Id, probe.Token));
        }

        var slots = await cluster.WalletSlotsAsync(probes.Select(probe => probe.Id));
        Assert.All(paid, wallet => Assert.NotEqual(victim, slots[wallet.Id]));
        await cluster.Client.AssertLedgerReconciledAsync(await cluster.Client.OperatorTokenAsync());
    }

    /// <summary>Waits until nginx passes a request to the node in <paramref name="slot"/>: the node answering GET /v1/cluster marks its own silo.</summary>
    private static async Task UntilAnsweredByAsync(BalancedCluster cluster, string slot)
    {
        var token = await cluster.Client.OperatorTokenAsync();
        var siloPort = cluster.SiloPortOf(slot).ToString(CultureInfo.InvariantCulture);
        for (var attempt = 0; attempt < 200; attempt++)
        {
            var view = await cluster.Client.GetJsonAsync(token, "/v1/cluster");
            var answering = view.GetProperty("silos").EnumerateArray().Single(silo => silo.GetProperty("thisNode").GetBoolean());
            if (answering.GetProperty("address").GetString()!.EndsWith($":{siloPort}", StringComparison.Ordinal))
            {
                return;
            }

            await Task.Delay(50);
        }

        Assert.Fail($"nginx sent none of 200 requests to {slot}: {await cluster.Nginx.ErrorLogAsync()}");
    }

    /// <summary>The payments (201) a node answered, from its request metrics (<c>GET /metrics</c>).</summary>
    private static async Task<long> PaymentsAnsweredAsync(BuiltProcess node)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        request.Headers.Authorization = new("Bearer", await node.OperatorTokenAsync());
        using var response = await node.Client.SendAsync(request);
        var metrics = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, metrics);
        return (long)metrics.Split('\n')
            .Where(line => line.StartsWith("http_server_request_duration_seconds_count{", StringComparison.Ordinal)
                && line.Contains("http_route=\"/v1/payments\"", StringComparison.Ordinal) && line.Contains("http_response_status_code=\"201\"", StringComparison.Ordinal))
            .Sum(line => double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture));
    }

    /// <summary>A probe customer, its token, and the merchant it pays.</summary>
    private sealed record Member(string Id, string Token, string MerchantId);

    /// <summary>The load client's exit code and report, when the disturbance began and when the cluster was whole again, and the client's log.</summary>
    private sealed record LoadRun(int ExitCode, RunReport Report, DateTimeOffset DisturbedAt, DateTimeOffset WholeAt, string Log);
}

/// <summary>The node-loss tests run after every other test of the project, alone: their timings are the cluster's own.</summary>
[CollectionDefinition(NodeLossTests.Alone, DisableParallelization = true)]
public sealed class NodeLossCollection;
