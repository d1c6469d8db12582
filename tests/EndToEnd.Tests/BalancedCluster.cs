using System.Text.Json;
using MyPay.Testing;

namespace MyPay.EndToEnd.Tests;

/// <summary>
/// The topology of docker-compose.yml as processes on this machine, for tests that disturb it under load: the bank
/// simulator, node processes of one Orleans cluster on one database, and nginx in front of them. Each node lives in a
/// <see cref="NodeProcess"/> slot (node1, node2, …) that keeps its silo and gateway ports and its HTTP address across
/// restarts, as a redeployed container keeps its address: nginx goes on sending to it, and Orleans knows the new silo
/// for the slot's next generation.
/// </summary>
public sealed class BalancedCluster : IAsyncDisposable
{
    private static readonly TimeSpan StopWaitMax = TimeSpan.FromSeconds(90);

    private readonly string databaseUrl;
    private readonly Dictionary<string, Uri> urls = new(StringComparer.Ordinal);
    private readonly Dictionary<string, BuiltProcess> running = new(StringComparer.Ordinal);
    private readonly List<string> endedOutputs = [];
    private NginxProcess? nginx;

    private BalancedCluster(string databaseUrl, string membershipConnectionString, string clusterId, BuiltProcess bank)
    {
        this.databaseUrl = databaseUrl;
        MembershipConnectionString = membershipConnectionString;
        ClusterId = clusterId;
        Bank = bank;
    }

    public string ClusterId { get; }

    /// <summary>The database as the test reaches it, straight (the nodes may reach it through a proxy the test cuts).</summary>
    public string MembershipConnectionString { get; }

    public BuiltProcess Bank { get; }

    /// <summary>Where clients send requests: nginx.</summary>
    public Uri Url => Nginx.Url;

    /// <summary>A client of nginx, as the load's clients are.</summary>
    public HttpClient Client { get; private set; } = null!;

    public NginxProcess Nginx => nginx ?? throw new InvalidOperationException("nginx is not started yet.");

    /// <summary>Every slot a node was started in, in order; a stopped or killed node's slot stays.</summary>
    public IReadOnlyList<string> Slots => [.. urls.Keys];

    /// <summary>The node running in <paramref name="slot"/>.</summary>
    public BuiltProcess this[string slot] => running[slot];

    /// <summary>
    /// The bank, <paramref name="nodes"/> nodes (the first alone, as it migrates the database, then the others together)
    /// on <paramref name="databaseUrl"/> with <paramref name="clusterId"/>, and nginx in front of them once every silo
    /// is active in the membership table.
    /// </summary>
    public static async Task<BalancedCluster> StartAsync(string databaseUrl, string membershipConnectionString, string clusterId, int nodes)
    {
        var cluster = new BalancedCluster(databaseUrl, membershipConnectionString, clusterId, await BuiltProcess.StartBankAsync());
        try
        {
            string[] slots = [.. Enumerable.Range(1, nodes).Select(node => $"node{node}")];
            await cluster.StartNodeAsync(slots[0]);
            await Task.WhenAll(slots.Skip(1).Select(cluster.StartNodeAsync));
            await cluster.UntilMembershipAsync(slots.ToDictionary(slot => slot, _ => ClusterView.Active), TimeSpan.FromSeconds(60));
            cluster.nginx = await NginxProcess.StartAsync(cluster.urls.Values);
            cluster.Client = new HttpClient { BaseAddress = cluster.Url, Timeout = TimeSpan.FromSeconds(60) };
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Starts a node in <paramref name="slot"/>, again at the slot's address if it had one, and waits until it is ready
    /// (its silo has joined: the node serves HTTP only once its silo has started). A new slot is not in nginx's
    /// configuration until <see cref="BalanceOverEveryNodeAsync"/>.
    /// </summary>
    public async Task StartNodeAsync(string slot)
    {
        Uri url;
        lock (urls)
        {
            if (!urls.TryGetValue(slot, out url!))
            {
                urls[slot] = url = new Uri($"http://127.0.0.1:{FreePorts.Range(1)}");
            }
        }

        var process = await NodeProcess.StartAsync(databaseUrl, Bank.BaseAddress, new Dictionary<string, string> { ["MYPAY_CLUSTER_ID"] = ClusterId }, slot, url);
        lock (running)
        {
            running[slot] = process;
        }
    }

    /// <summary>nginx balances over every slot's node from now on (its configuration written again, and reloaded).</summary>
    public Task BalanceOverEveryNodeAsync() => Nginx.ReloadAsync(urls.Values);

    /// <summary>SIGKILL to the node in <paramref name="slot"/>: a crash.</summary>
    public async Task KillAsync(string slot)
    {
        await running[slot].KillAsync();
        await ForgetAsync(slot);
    }

    /// <summary>SIGTERM to the node in <paramref name="slot"/>, and waits until it has exited; fails the test unless it exits with 0.</summary>
    public async Task StopAsync(string slot)
    {
        var node = running[slot];
        var exitCode = await node.StopAsync(StopWaitMax);
        Assert.True(exitCode == 0, $"The node in {slot} exited with {exitCode} after SIGTERM:\n{node.Output}");
        await ForgetAsync(slot);
    }

    /// <summary>The silo port of <paramref name="slot"/>'s node: how the membership table names it.</summary>
    public int SiloPortOf(string slot) => NodeProcess.SiloPortOf(databaseUrl, slot);

    /// <summary>The slot whose silo has <paramref name="siloPort"/>.</summary>
    public string SlotOf(int siloPort) => Slots.Single(slot => SiloPortOf(slot) == siloPort);

    /// <summary>Waits until each slot's latest silo has its status in the membership table (read straight); how long it took.</summary>
    public Task<TimeSpan> UntilMembershipAsync(IReadOnlyDictionary<string, int> statuses, TimeSpan waitMax) =>
        ClusterView.UntilMembershipAsync(MembershipConnectionString, ClusterId, statuses.ToDictionary(status => SiloPortOf(status.Key), status => status.Value), waitMax);

    /// <summary>For each wallet of <paramref name="memberIds"/>, the slot of the one silo holding its activation; fails unless each has exactly one.</summary>
    public async Task<Dictionary<string, string>> WalletSlotsAsync(IEnumerable<string> memberIds)
    {
        await using var view = await ClusterView.ConnectAsync(MembershipConnectionString, ClusterId);
        var activations = await view.ActivationsAsync("wallet");
        var slots = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var id in memberIds)
        {
            var silos = activations.GetValueOrDefault(id) ?? [];
            Assert.True(silos.Count == 1, $"Wallet {id} has {silos.Count} activations (silo ports: {string.Join(", ", silos)}); one in the cluster is expected.");
            slots[id] = SlotOf(silos[0]);
        }

        return slots;
    }

    /// <summary>
    /// The faults the nodes logged, running or ended (each kind once: its category and the exception's first line), for
    /// a failing test's message.
    /// </summary>
    public string Faults()
    {
        var faults = running.Values.Select(node => node.Output).Concat(endedOutputs)
            .SelectMany(text => text.Split('\n'))
            .Where(line => line.StartsWith('{') && line.Contains("\"Exception\"", StringComparison.Ordinal))
            .Select(line =>
            {
                using var entry = JsonDocument.Parse(line);
                var exception = entry.RootElement.GetProperty("Exception").GetString() ?? "";
                return $"{entry.RootElement.GetProperty("Category").GetString()}: {exception.Split('\n')[0]}";
            })
            .Distinct(StringComparer.Ordinal)
            .Take(20)
            .ToList();
        return faults.Count == 0 ? "The nodes logged no exception." : $"The nodes logged:\n{string.Join('\n', faults)}";
    }

    public async ValueTask DisposeAsync()
    {
        if (nginx is not null)
        {
            await nginx.DisposeAsync();
        }

        Client?.Dispose();
        foreach (var slot in running.Keys.ToList())
        {
            await ForgetAsync(slot);
        }

        await Bank.DisposeAsync();
    }

    private async Task ForgetAsync(string slot)
    {
        await running[slot].DisposeAsync();
        endedOutputs.Add(running[slot].Output);
        running.Remove(slot);
    }
}
