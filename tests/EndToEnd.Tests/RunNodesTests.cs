using System.Diagnostics;
using System.Net;
using MyPay.Testing;
using Xunit.Abstractions;

namespace MyPay.EndToEnd.Tests;

/// <summary>
/// <c>./mypay run --nodes 3</c>, the topology of docker-compose.yml without containers: three nodes of one cluster
/// behind nginx. Through nginx every node answers, the cluster lists three active silos, money moved passes the
/// ledger check; stopping the run stops every process it started.
/// </summary>
public sealed class RunNodesTests(PostgresDatabase database, ITestOutputHelper output) : IClassFixture<PostgresDatabase>
{
    private const string OperatorPassword = "operator-password-for-the-run-test";
    private const int Nodes = 3;
    private static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(3);

    [Fact]
    public async Task RunWithThreeNodes_EveryNodeAnswersThroughNginx_AndMoneyMovedThroughItBalances()
    {
        await using var books = new BankBooks();
        // Nodes' HTTP, silo and gateway ports, then nginx's and the bank's.
        var first = FreePorts.Range(3 * Nodes + 2);
        var (nginxPort, bankPort) = (first + 3 * Nodes, first + 3 * Nodes + 1);
        using var run = StartRun(new Dictionary<string, string>
        {
            ["MYPAY_DATABASE_URL"] = database.ConnectionString,
            ["MYPAY_BANK_DATABASE_URL"] = books.ConnectionString,
            ["MYPAY_NODE_PORT"] = $"{first}",
            ["MYPAY_SILO_PORT"] = $"{first + Nodes}",
            ["MYPAY_GATEWAY_PORT"] = $"{first + 2 * Nodes}",
            ["MYPAY_NGINX_PORT"] = $"{nginxPort}",
            ["MYPAY_BANK_PORT"] = $"{bankPort}",
            ["MYPAY_CLUSTER_ID"] = $"run-{Guid.NewGuid():N}",
            ["MYPAY_OPERATOR_PASSWORD"] = OperatorPassword,
        }, out var lines);
        try
        {
            await WaitForLineAsync(run, lines, "MyPay is running");
            using var nginx = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{nginxPort}") };
            using var bank = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{bankPort}") };
            var operatorToken = await nginx.TokenAsync("operator", OperatorPassword);

            // Every node answers through nginx: the silo that answers GET /v1/cluster marks itself.
            var answeredBy = new HashSet<string>();
            for (var request = 0; request < 30 && answeredBy.Count < Nodes; request++)
            {
                var cluster = await nginx.GetJsonAsync(operatorToken, "/v1/cluster");
                Assert.Equal(Nodes, cluster.GetProperty("activeSilos").GetInt32());
                answeredBy.Add(cluster.GetProperty("silos").EnumerateArray().Single(silo => silo.GetProperty("thisNode").GetBoolean()).GetProperty("address").GetString()!);
            }

            Assert.Equal(Nodes, answeredBy.Count);

            // Money through nginx: a recharge and payments, each request to whichever node nginx picks.
            var (customerId, customerToken) = await nginx.RegisterWithWalletAsync(bank, walletWon: 100_000);
            var (merchantId, _) = await nginx.RegisterAsync(type: "merchant");
            for (var payment = 0; payment < 12; payment++)
            {
                using var paid = await nginx.SendAsync(customerToken, HttpMethod.Post, "/v1/payments", new { merchantId, amount = 1_000 }, $"run-pay-{payment}");
                Assert.Equal(HttpStatusCode.Created, paid.StatusCode);
            }

            Assert.Equal(100_000 - 12 * 1_000, await nginx.BalanceAsync(customerId, customerToken));
            var check = await nginx.GetJsonAsync(operatorToken, "/v1/ledger/check");
            Assert.True(check.GetProperty("consistent").GetBoolean(), check.ToString());

            // Stopped as Ctrl-C stops it: every node, nginx and the bank stop with it.
            var children = Descendants(run.Id);
            Assert.True(children.Count >= Nodes + 2, $"The run started {children.Count} processes.");
            await Signal.SendAsync(run.Id, "TERM");
            await run.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(90));
            Assert.All(children, pid => Assert.False(IsRunning(pid), $"Process {pid} outlived the run."));
            output.WriteLine($"answered by {string.Join(", ", answeredBy)}");
        }
        finally
        {
            if (!run.HasExited)
            {
                run.Kill(entireProcessTree: true);
            }

            lock (lines)
            {
                output.WriteLine(string.Join('\n', lines.TakeLast(200)));
            }
        }
    }

    private static Process StartRun(Dictionary<string, string> environment, out List<string> lines)
    {
        var start = new ProcessStartInfo("bash")
        {
            ArgumentList = { Path.Combine(BuiltProcess.RepositoryRoot, "mypay"), "run", "--nodes", $"{Nodes}", "--no-build" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        // The nodes' request lines would be most of the output.
        start.Environment["Logging__LogLevel__Microsoft.AspNetCore.HttpLogging.HttpLoggingMiddleware"] = "Warning";
        var collected = new List<string>();
        var process = Process.Start(start)!;
        void Read(string? line)
        {
            if (line is not null)
            {
                lock (collected)
                {
                    collected.Add(line);
                }
            }
        }

        process.OutputDataReceived += (_, line) => Read(line.Data);
        process.ErrorDataReceived += (_, line) => Read(line.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        lines = collected;
        return process;
    }

    private static async Task WaitForLineAsync(Process run, List<string> lines, string text)
    {
        var deadline = DateTime.UtcNow + StartTimeout;
        while (true)
        {
            lock (lines)
            {
                if (lines.Any(line => line.Contains(text, StringComparison.Ordinal)))
                {
                    return;
                }
            }

            Assert.False(run.HasExited, $"./mypay run exited with {(run.HasExited ? run.ExitCode : 0)} before '{text}'.");
            Assert.True(DateTime.UtcNow < deadline, $"No '{text}' within {StartTimeout}.");
            await Task.Delay(200);
        }
    }

    /// <summary>Every process below <paramref name="pid"/> (from /proc).</summary>
    private static List<int> Descendants(int pid)
    {
        var children = Directory.EnumerateDirectories("/proc")
            .Select(Path.GetFileName)
            .Where(name => int.TryParse(name, out _))
            .Select(name => (Pid: int.Parse(name!, System.Globalization.CultureInfo.InvariantCulture), Parent: ParentOf(name!)))
            .ToList();
        var found = new List<int>();
        var frontier = new Queue<int>([pid]);
        while (frontier.TryDequeue(out var parent))
        {
            foreach (var child in children.Where(process => process.Parent == parent))
            {
                found.Add(child.Pid);
                frontier.Enqueue(child.Pid);
            }
        }

        return found;
    }

    private static int? ParentOf(string pid)
    {
        try
        {
            // /proc/PID/stat: "pid (comm) state ppid ...", where comm may hold spaces: read after its closing parenthesis.
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return null;
        }
    }

    private static bool IsRunning(int pid) => File.Exists($"/proc/{pid}/stat") && !File.ReadAllText($"/proc/{pid}/stat").Contains(") Z ", StringComparison.Ordinal);
}
