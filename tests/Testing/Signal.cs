using System.Diagnostics;

namespace MyPay.Testing;

/// <summary>Sends a process a signal other than SIGKILL (which <see cref="Process.Kill()"/> sends) through the system's <c>kill</c> command.</summary>
public static class Signal
{
    /// <summary>Sends SIG<paramref name="name"/> (TERM, INT, HUP…) to process <paramref name="pid"/>; fails when <c>kill</c> does.</summary>
    public static async Task SendAsync(int pid, string name)
    {
        using var kill = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { $"-{name}", $"{pid}" }, RedirectStandardError = true })!;
        var error = await kill.StandardError.ReadToEndAsync();
        await kill.WaitForExitAsync();
        if (kill.ExitCode != 0)
        {
            throw new InvalidOperationException($"kill -{name} {pid} failed ({kill.ExitCode}): {error}");
        }
    }
}
