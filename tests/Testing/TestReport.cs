using Xunit.Abstractions;

namespace MyPay.Testing;

/// <summary>
/// Lines a test wants seen in <c>./mypay test</c>'s output even when it passes (a lint's verdict, a generated run's seed):
/// <c>dotnet test</c> shows a passing test's own output only at a verbosity that also drops the per-project result lines
/// <c>./mypay test</c> sums. So they go to the test's output and are appended to the file <c>MYPAY_TEST_REPORT</c>
/// names, which <c>./mypay test</c> prints before its summary.
/// </summary>
public static class TestReport
{
    public const string EnvironmentVariable = "MYPAY_TEST_REPORT";

    private static readonly Lock Gate = new();

    public static void WriteLine(ITestOutputHelper output, string line)
    {
        output.WriteLine(line);
        if (Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } path)
        {
            // Test projects run as processes side by side; each line is one small append, which the system keeps whole.
            lock (Gate)
            {
                File.AppendAllText(path, line + Environment.NewLine);
            }
        }
    }
}
