using System.Diagnostics;
using System.Net;
using System.Reflection;

namespace MyPay.Testing;

/// <summary>
/// A MyPay program run as a real process from its build output, on a loopback port of its own: for tests
/// that must kill it, or that need a program (the bank simulator) whose <c>Program</c> cannot share a
/// test process with the node's.
/// </summary>
public sealed partial class BuiltProcess : IAsyncDisposable
{
    private readonly Process process;
    private readonly StringWriter output;

    /// <summary>Books this process was given for itself, dropped after it ends (a bank's).</summary>
    private BankBooks? ownBooks;

    /// <summary>What ASP.NET Core's host logs once Kestrel listens, before the address it bound.</summary>
    [System.Text.RegularExpressions.GeneratedRegex(@"Now listening on: (?<url>https?://[^\s""\\]+)")]
    private static partial System.Text.RegularExpressions.Regex ListeningAddress();

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    private BuiltProcess(Process process, StringWriter output, Uri baseAddress)
    {
        this.process = process;
        this.output = output;
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

    /// <summary>
    /// Starts <c>src/{project}</c>'s built assembly and waits until <paramref name="readyPath"/> answers 200. Unless
    /// given <paramref name="url"/> (a process restarted where its predecessor listened), the process binds a port the
    /// system gives it (port 0) and logs which: no port is chosen here that something else could take before the
    /// process binds it.
    /// </summary>
    public static async Task<BuiltProcess> StartAsync(string project, string readyPath, IReadOnlyDictionary<string, string> environment, Uri? url = null)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { AssemblyOf(project), "--urls", url?.ToString().TrimEnd('/') ?? "http://127.0.0.1:0" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        start.Environment["Logging__LogLevel__Microsoft.Hosting.Lifetime"] = "Information";
        // A line per request is the node's default; a test's process keeps its output for a failing test's message only.
        start.Environment["Logging__LogLevel__Microsoft.AspNetCore.HttpLogging.HttpLoggingMiddleware"] = "Warning";
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        var output = new StringWriter();
        var listening = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        void Read(string? line)
        {
            lock (output)
            {
                output.WriteLine(line);
            }

            // The node logs JSON lines ("Message":"Now listening on: http://…"), the bank plain ones.
            if (line is not null && ListeningAddress().Match(line) is { Success: true } address)
            {
                listening.TrySetResult(new Uri(address.Groups["url"].Value));
            }
        }

        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, line) => Read(line.Data);
        process.ErrorDataReceived += (_, line) => Read(line.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var exited = process.WaitForExitAsync();
        if (await Task.WhenAny(listening.Task, exited, Task.Delay(StartTimeout)) != listening.Task)
        {
            var failure = exited.IsCompleted ? $"The process exited with code {process.ExitCode}" : $"The process did not listen within {StartTimeout.TotalSeconds} seconds";
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }

            await process.WaitForExitAsync();
            process.Dispose();
            lock (output)
            {
                throw new InvalidOperationException($"{failure}:\n{output}");
            }
        }

        var started = new BuiltProcess(process, output, await listening.Task);
        try
        {
            await started.WaitUntilReadyAsync(readyPath);
            return started;
        }
        catch
        {
            await started.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// The bank simulator, fresh: its seed accounts and MyPay's corporate account, no faults, and books of its own,
    /// dropped when it is disposed.
    /// </summary>
    public static async Task<BuiltProcess> StartBankAsync()
    {
        var books = new BankBooks();
        try
        {
            var bank = await StartBankAsync(books);
            bank.ownBooks = books;
            return bank;
        }
        catch
        {
            await books.DisposeAsync();
            throw;
        }
    }

    /// <summary>The bank simulator keeping its books in <paramref name="books"/>: started again on them, it has every account and transfer it had.</summary>
    public static Task<BuiltProcess> StartBankAsync(BankBooks books) =>
        StartAsync("BankSimulator", "/health/live", new Dictionary<string, string> { [BankBooks.UrlVariable] = books.ConnectionString });

    /// <summary>SIGKILL: no shutdown hook runs, nothing is flushed, as in a crash.</summary>
    public async Task KillAsync()
    {
        process.Kill(entireProcessTree: true);
        await process.WaitForExitAsync();
    }

    /// <summary>
    /// SIGTERM, as a deployment stops a process (docker stop, systemd, Ctrl-C's cousin): the host stops gracefully.
    /// Returns the exit code once it has exited; killed (and the test failed) if it takes longer than <paramref name="waitMax"/>.
    /// </summary>
    public async Task<int> StopAsync(TimeSpan waitMax)
    {
        await Signal.SendAsync(process.Id, "TERM");
        try
        {
            await process.WaitForExitAsync().WaitAsync(waitMax);
        }
        catch (TimeoutException)
        {
            await KillAsync();
            throw new TimeoutException($"The process did not stop within {waitMax.TotalSeconds} s of SIGTERM:\n{Output}");
        }

        return process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
        {
            await KillAsync();
        }

        Client.Dispose();
        process.Dispose();
        if (ownBooks is not null)
        {
            await ownBooks.DisposeAsync();
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

    /// <summary>The checkout the tests were built in: the folder holding MyPay.sln above the test output.</summary>
    public static string RepositoryRoot
    {
        get
        {
            var directory = new DirectoryInfo(AppContext.BaseDirectory);
            while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "MyPay.sln")))
            {
                directory = directory.Parent;
            }

            return directory?.FullName ?? throw new InvalidOperationException("MyPay.sln not found above the test output.");
        }
    }

    /// <summary>The built assembly of a src project, in the configuration the tests were built in.</summary>
    public static string AssemblyOf(string project)
    {
        var configuration = Assembly.GetExecutingAssembly().GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
        var path = Path.Combine(RepositoryRoot, "src", project, "bin", configuration, "net10.0", $"MyPay.{project}.dll");
        return File.Exists(path) ? path : throw new FileNotFoundException($"Build {project} first: {path} is missing.", path);
    }
}
