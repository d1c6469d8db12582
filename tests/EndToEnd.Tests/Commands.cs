using System.Diagnostics;
using MyPay.Testing;

namespace MyPay.EndToEnd.Tests;

/// <summary>Commands the end-to-end tests run beside MyPay's own processes: the tools <c>./mypay test</c> installs, and scripts.</summary>
public static class Commands
{
    /// <summary>The tool ./mypay test installed (its path in <paramref name="variable"/>, e.g. MYPAY_NGINX), else <paramref name="fallback"/> on PATH.</summary>
    public static string Installed(string variable, string fallback) =>
        Environment.GetEnvironmentVariable(variable) is { Length: > 0 } tool ? tool : fallback;

    /// <summary>
    /// Runs a command in the repository root and returns its standard output and error, asserting it succeeded (or
    /// failed, with <paramref name="expectSuccess"/> false) within a minute. The operator password and the signing key
    /// are not passed on from the test's environment: the command sees them only when <paramref name="environment"/> gives them.
    /// </summary>
    public static async Task<string> RunAsync(
        string command, IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment = null, bool expectSuccess = true)
    {
        var start = new ProcessStartInfo(command) { WorkingDirectory = BuiltProcess.RepositoryRoot, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var variable in new[] { "MYPAY_OPERATOR_PASSWORD", "MYPAY_JWT_SIGNING_KEY" })
        {
            start.Environment.Remove(variable);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start)!;
        var standardOutput = process.StandardOutput.ReadToEndAsync();
        var standardError = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(1));
        var text = await standardOutput + await standardError;
        Assert.True((process.ExitCode == 0) == expectSuccess, $"{command} {string.Join(' ', start.ArgumentList)} exited with {process.ExitCode}:\n{text}");
        return text;
    }
}
