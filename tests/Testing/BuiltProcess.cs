using System.Diagnostics;
using System.Net;
using System.Reflection;

namespace MyPay.Testing;

/// <summary>
/// A MyPay program run as a real process from its build output, on a free loopback port: for tests
/// that must kill it, or that need a program (the bank simulator) whose <c>Program</c> cannot share a
/// test process with the node's.
/// </summary>
public sealed class BuiltProcess : IAsyncDisposable
{
    private readonly Process process;
    private readonly StringWriter output = new();

    private BuiltProcess(Process process, Uri baseAddress)
    {
        this.process = process;
        BaseAddress = baseAddress;
        Client = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(30) };
    }

    public Uri BaseAddress { get; }

    /// <summary>A plain client for the process, with no credentials.</summary>
    public HttpClient Client { get; }

    /// <summary>What the process printed, for a failing test's message.</summary>
    public string Output
    {
        get
        {
            lock (output)
            {
                return output.ToString();
            }
        }
    }

    /// <summary>Starts on a free port: a free port may be taken (an outgoing connection's) before the process binds it.</summary>
    private const int FreePortAttemptsMax = 3;

    /// <summary>
    /// Starts <c>src/{project}</c>'s built assembly and waits until <paramref name="readyPath"/> answers 200. Without a
    /// <paramref name="port"/> it takes a free one, and another if that one was taken before the process could bind it.
    /// </summary>
    public static async Task<BuiltProcess> StartAsync(string project, string readyPath, IReadOnlyDictionary<string, string> environment, int? port = null)
    {
        for (var attempt = 1; ; attempt++)
        {
            var started = Start(project, environment, port ?? FreePorts.Next());
            try
            {
                await started.WaitUntilReadyAsync(readyPath);
                return started;
            }
            catch (InvalidOperationException) when (port is null && attempt < FreePortAttemptsMax)
            {
                var portTaken = await started.FailedToBindAsync();
                await started.DisposeAsync();
                if (!portTaken)
                {
                    throw;
                }
            }
            catch
            {
                await started.DisposeAsync();
                throw;
            }
        }
    }

    /// <summary>Whether the process exited because its port was taken (its output read to the end first).</summary>
    private async Task<bool> FailedToBindAsync()
    {
        await process.WaitForExitAsync();
        return Output.Contains("address already in use", StringComparison.OrdinalIgnoreCase);
    }

    private static BuiltProcess Start(string project, IReadOnlyDictionary<string, string> environment, int port)
    {
        var baseAddress = new Uri($"http://127.0.0.1:{port}");
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { BuildOutput(project), "--urls", baseAddress.ToString() },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        var started = new BuiltProcess(Process.Start(start)!, baseAddress);
        started.process.OutputDataReceived += (_, line) => started.Append(line.Data);
        started.process.ErrorDataReceived += (_, line) => started.Append(line.Data);
        started.process.BeginOutputReadLine();
        started.process.BeginErrorReadLine();
        return started;
    }

    /// <summary>The bank simulator, fresh: its seed accounts and MyPay's corporate account, no faults.</summary>
    public static Task<BuiltProcess> StartBankAsync() =>
        StartAsync("BankSimulator", "/health/live", new Dictionary<string, string>());

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

    private void Append(string? line)
    {
        lock (output)
        {
            output.WriteLine(line);
        }
    }

    private async Task WaitUntilReadyAsync(string readyPath)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(60))
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"The process exited with code {process.ExitCode}:\n{Output}");
            }

            try
            {
                using var response = await Client.GetAsync(new Uri(readyPath, UriKind.Relative));
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

        throw new TimeoutException($"The process was not ready within 60 seconds:\n{Output}");
    }

    /// <summary>The built assembly of a src project, in the configuration the tests were built in.</summary>
    private static string BuildOutput(string project)
    {
        var configuration = Assembly.GetExecutingAssembly().GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "MyPay.sln")))
        {
            directory = directory.Parent;
        }

        var path = Path.Combine(
            directory?.FullName ?? throw new InvalidOperationException("MyPay.sln not found above the test output."),
            "src", project, "bin", configuration, "net10.0", $"MyPay.{project}.dll");
        return File.Exists(path) ? path : throw new FileNotFoundException($"Build {project} first: {path} is missing.", path);
    }
}
