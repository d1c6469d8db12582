using System.Diagnostics;

namespace MyPay.LoadTest.Reporting;

/// <summary>
/// Progress and notes on stderr. On a terminal the progress line is rewritten in place (\r); when stderr is a file or
/// a pipe, each update is its own line, at most one a second, so logs stay readable. Notes always get a line of their own.
/// </summary>
public sealed class StatusLine(TextWriter error, bool overwrite)
{
    /// <summary>Least time between two progress lines in a log: a little under the run's one-second tick, so none is skipped.</summary>
    private static readonly TimeSpan progressIntervalMin = TimeSpan.FromMilliseconds(900);

    private readonly Lock writing = new();
    private int shownLength;
    private long lastProgressTimestamp;

    public static StatusLine ForConsole() => new(Console.Error, !Console.IsErrorRedirected);

    /// <summary>Replaces the progress line.</summary>
    public void Progress(string text)
    {
        lock (writing)
        {
            if (!overwrite)
            {
                if (lastProgressTimestamp == 0 || Stopwatch.GetElapsedTime(lastProgressTimestamp) >= progressIntervalMin)
                {
                    error.WriteLine(text);
                    lastProgressTimestamp = Stopwatch.GetTimestamp();
                }

                return;
            }

            error.Write('\r' + text.PadRight(shownLength));
            shownLength = text.Length;
            error.Flush();
        }
    }

    /// <summary>A line that stays: a plan, a warning, a verification step.</summary>
    public void Note(string text)
    {
        lock (writing)
        {
            ClearProgress();
            error.WriteLine(text);
        }
    }

    public void Clear()
    {
        lock (writing)
        {
            ClearProgress();
        }
    }

    private void ClearProgress()
    {
        if (overwrite && shownLength > 0)
        {
            error.Write('\r' + new string(' ', shownLength) + '\r');
            shownLength = 0;
        }
    }
}
