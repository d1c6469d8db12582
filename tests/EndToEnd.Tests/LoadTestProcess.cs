using System.Diagnostics;
using System.Text.Json;
using MyPay.LoadTest.Reporting;
using MyPay.Testing;

namespace MyPay.EndToEnd.Tests;

/// <summary>
/// MyPay's load-test client (src/LoadTest, its built assembly) as a process, as an operator runs it: it prepares its
/// members, sends its load until interrupted (SIGINT, as Ctrl-C) or its duration is over, then verifies every answer
/// against the ledger and reports as JSON (<c>--json</c>).
/// </summary>
public sealed class LoadTestProcess : IAsyncDisposable
{
    private readonly Process process;
    private readonly List<string> log = [];
    private readonly Task<string> report;
    private readonly TaskCompletionSource loading = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private LoadTestProcess(Process process)
    {
        this.process = process;
        process.ErrorDataReceived += (_, line) => Read(line.Data);
        process.BeginErrorReadLine();
        report = process.StandardOutput.ReadToEndAsync();
    }

    /// <summary>Completes when the members are prepared and the load begins; fails if the client exits first.</summary>
    public Task Loading => loading.Task;

    /// <summary>What the client printed on its standard error: its plan, progress a second, verification's lines.</summary>
    public string Log
    {
        get
        {
            lock (log)
            {
                return string.Join('\n', log);
            }
        }
    }

    /// <summary>Starts the client against <paramref name="nodeUrl"/> with <paramref name="options"/> (besides the addresses, the operator's password and <c>--json</c>).</summary>
    public static LoadTestProcess Start(Uri nodeUrl, Uri bankUrl, string operatorPassword, IEnumerable<string> options)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { BuiltProcess.AssemblyOf("LoadTest"), "--node-url", nodeUrl.ToString(), "--bank-url", bankUrl.ToString(), "--json" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var option in options)
        {
            start.ArgumentList.Add(option);
        }

        start.Environment["MYPAY_OPERATOR_PASSWORD"] = operatorPassword;
        var started = new LoadTestProcess(Process.Start(start)!);
        _ = started.process.WaitForExitAsync().ContinueWith(
            _ => started.loading.TrySetException(new InvalidOperationException($"The load test exited before its load began:\n{started.Log}")),
            TaskScheduler.Default);
        return started;
    }

    /// <summary>SIGINT, as Ctrl-C: the load ends, the requests under way are finished, and the run is verified.</summary>
    public Task InterruptAsync() => Signal.SendAsync(process.Id, "INT");

    /// <summary>Waits (up to <paramref name="waitMax"/>) for the client to verify and exit; its exit code and report.</summary>
    public async Task<(int ExitCode, RunReport Report)> ResultAsync(TimeSpan waitMax)
    {
        try
        {
            await process.WaitForExitAsync().WaitAsync(waitMax);
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"The load test did not finish within {waitMax.TotalSeconds} s:\n{Log}");
        }

        var json = await report;
        try
        {
            return (process.ExitCode, JsonSerializer.Deserialize<RunReport>(json, JsonSerializerOptions.Web)!);
        }
        catch (JsonException exception)
        {
            throw new InvalidOperationException($"The load test (exit code {process.ExitCode}) printed no report ({exception.Message}):\n{json}\n{Log}", exception);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }

        process.Dispose();
    }

    private void Read(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (log)
        {
            log.Add(line);
        }

        // LoadTestRun's note once preparation is done, right before the workers start.
        if (line.StartsWith("prepared ", StringComparison.Ordinal))
        {
            loading.TrySetResult();
        }
    }
}
