using System.Diagnostics;
using MyPay.Testing;

namespace MyPay.EndToEnd.Tests;

/// <summary>
/// nginx in front of node processes, configured as <c>./mypay run --nodes</c> configures it (<c>scripts/nginx.sh config</c>,
/// derived from deploy/nginx.conf: least connections, a request passed on to another node only when the first could not
/// be reached), in a folder of its own, on a free port. Its nodes change as a deployment's do: the configuration is
/// written again and nginx reloaded (<c>nginx -s reload</c>), its old workers finishing what they carry.
/// </summary>
public sealed class NginxProcess : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);

    private readonly Process process;
    private readonly DirectoryInfo folder;

    private NginxProcess(Process process, DirectoryInfo folder, int port)
    {
        this.process = process;
        this.folder = folder;
        Url = new Uri($"http://127.0.0.1:{port}");
    }

    public Uri Url { get; }

    private static string Binary => Commands.Installed("MYPAY_NGINX", "nginx");

    private string ConfigurationFile => Path.Combine(folder.FullName, "nginx.conf");

    /// <summary>Starts nginx balancing over <paramref name="nodes"/>, and waits until it passes a request on (a node's <c>/health/live</c>).</summary>
    public static async Task<NginxProcess> StartAsync(IEnumerable<Uri> nodes)
    {
        var folder = Directory.CreateTempSubdirectory("mypay-nginx-");
        folder.CreateSubdirectory("tmp");
        var port = FreePorts.Range(1);
        await WriteConfigurationAsync(folder, port, nodes);
        var process = Process.Start(new ProcessStartInfo(Binary)
        {
            ArgumentList = { "-p", folder.FullName, "-c", Path.Combine(folder.FullName, "nginx.conf"), "-g", "daemon off;" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        // Its own messages go to error.log; what it prints (nothing, unless it cannot start) is read so no pipe fills.
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var nginx = new NginxProcess(process, folder, port);
        try
        {
            using var client = new HttpClient { BaseAddress = nginx.Url, Timeout = TimeSpan.FromSeconds(5) };
            var waited = Stopwatch.StartNew();
            while (!await AnswersAsync(client))
            {
                Assert.False(process.HasExited, $"nginx exited with {(process.HasExited ? process.ExitCode : 0)}: {await nginx.ErrorLogAsync()}");
                Assert.True(waited.Elapsed < StartTimeout, $"nginx did not pass a request on within {StartTimeout.TotalSeconds} s: {await nginx.ErrorLogAsync()}");
                await Task.Delay(100);
            }

            return nginx;
        }
        catch
        {
            await nginx.DisposeAsync();
            throw;
        }
    }

    /// <summary>Balances over <paramref name="nodes"/> from now on: the configuration written again, then <c>nginx -s reload</c>.</summary>
    public async Task ReloadAsync(IEnumerable<Uri> nodes)
    {
        await WriteConfigurationAsync(folder, Url.Port, nodes);
        await Commands.RunAsync(Binary, ["-p", folder.FullName, "-c", ConfigurationFile, "-s", "reload"]);
    }

    /// <summary>What nginx logged (warnings and errors): which node it could not reach, and when.</summary>
    public async Task<string> ErrorLogAsync()
    {
        var log = Path.Combine(folder.FullName, "error.log");
        return File.Exists(log) ? await File.ReadAllTextAsync(log) : "";
    }

    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
        {
            // The master and its workers: a worker left behind would keep the port.
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }

        process.Dispose();
        folder.Delete(recursive: true);
    }

    private static async Task WriteConfigurationAsync(DirectoryInfo folder, int port, IEnumerable<Uri> nodes)
    {
        var configuration = await Commands.RunAsync(
            "bash", [Path.Combine(BuiltProcess.RepositoryRoot, "scripts", "nginx.sh"), "config", folder.FullName, $"{port}", .. nodes.Select(node => node.ToString())]);
        await File.WriteAllTextAsync(Path.Combine(folder.FullName, "nginx.conf"), configuration);
    }

    private static async Task<bool> AnswersAsync(HttpClient client)
    {
        try
        {
            using var response = await client.GetAsync(new Uri("/health/live", UriKind.Relative));
            return response.IsSuccessStatusCode;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }
}
