using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Reflection;
using System.Text.Json;

namespace MyPay.EndToEnd.Tests;

/// <summary>
/// A MyPay node as a real process (the built <c>MyPay.Api.dll</c>), so a test can kill it with
/// SIGKILL mid-request and start it again, as a crash would.
/// </summary>
public sealed class NodeProcess : IAsyncDisposable
{
    private readonly Process process;
    private readonly StringWriter output = new();

    private NodeProcess(Process process, Uri baseAddress)
    {
        this.process = process;
        BaseAddress = baseAddress;
        Client = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(30) };
    }

    public const string OperatorPassword = "operator-password-for-end-to-end-tests";

    /// <summary>The same key on every start, so tokens issued before a crash still work after it.</summary>
    public static readonly string SigningKey = Convert.ToBase64String([.. Enumerable.Range(0, 32).Select(i => (byte)(255 - i))]);

    public Uri BaseAddress { get; }

    public HttpClient Client { get; }

    /// <summary>What the node printed, for a failing test's message.</summary>
    public string Output => output.ToString();

    public static async Task<NodeProcess> StartAsync(string databaseUrl, int? port = null)
    {
        var baseAddress = new Uri($"http://127.0.0.1:{port ?? FreePort()}");
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { BuildOutput("Api", "MyPay.Api.dll"), "--urls", baseAddress.ToString() },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            Environment =
            {
                ["MYPAY_DATABASE_URL"] = databaseUrl,
                ["MYPAY_JWT_SIGNING_KEY"] = SigningKey,
                ["MYPAY_OPERATOR_PASSWORD"] = OperatorPassword,
                ["Logging__LogLevel__Default"] = "Warning",
            },
        };
        var node = new NodeProcess(Process.Start(start)!, baseAddress);
        node.process.OutputDataReceived += (_, line) => node.Append(line.Data);
        node.process.ErrorDataReceived += (_, line) => node.Append(line.Data);
        node.process.BeginOutputReadLine();
        node.process.BeginErrorReadLine();
        await node.WaitUntilReadyAsync();
        return node;
    }

    /// <summary>Registers a customer and returns their id and a bearer token.</summary>
    public async Task<(string Id, string Token)> RegisterAsync(string password = "correct horse battery")
    {
        var email = $"{Guid.NewGuid():N}@example.com";
        using var registered = await Client.PostAsJsonAsync("/v1/members", new { type = "customer", name = "홍길동", email, address = "부산광역시", password });
        registered.EnsureSuccessStatusCode();
        var id = (await registered.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        using var signedIn = await Client.PostAsJsonAsync("/v1/auth/token", new { username = email, password });
        signedIn.EnsureSuccessStatusCode();
        return (id, (await signedIn.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("accessToken").GetString()!);
    }

    /// <summary>SIGKILL: no shutdown hook runs, nothing is flushed, as in a crash.</summary>
    public async Task KillAsync()
    {
        process.Kill(entireProcessTree: true);
        await process.WaitForExitAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
        {
            await KillAsync();
        }

        Client.Dispose();
        process.Dispose();
    }

    public int Port => BaseAddress.Port;

    private void Append(string? line)
    {
        lock (output)
        {
            output.WriteLine(line);
        }
    }

    private async Task WaitUntilReadyAsync()
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(60))
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"The node exited with code {process.ExitCode}:\n{Output}");
            }

            try
            {
                using var response = await Client.GetAsync(new Uri("/health/ready", UriKind.Relative));
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"The node was not ready within 60 seconds:\n{Output}");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>The built assembly of a src project, in the same configuration as these tests.</summary>
    private static string BuildOutput(string project, string assembly)
    {
        var configuration = typeof(NodeProcess).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "MyPay.sln")))
        {
            directory = directory.Parent;
        }

        var path = Path.Combine(
            directory?.FullName ?? throw new InvalidOperationException("MyPay.sln not found above the test output."),
            "src", project, "bin", configuration, "net10.0", assembly);
        return File.Exists(path) ? path : throw new FileNotFoundException($"Build {project} first: {path} is missing.", path);
    }
}
