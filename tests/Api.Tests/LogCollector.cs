using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace MyPay.Api.Tests;

/// <summary>Keeps every log entry a node writes, with the trace it was written in, for asserting on what it logged.</summary>
public sealed class LogCollector : ILoggerProvider
{
    private readonly ConcurrentQueue<Entry> entries = new();

    public IReadOnlyList<Entry> Entries => [.. entries];

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, entries);

    public void Dispose()
    {
        // Nothing to release: the entries stay readable after the node is gone.
    }

    /// <param name="TraceId">The trace of the activity the entry was written in (a request's), or null outside one.</param>
    public sealed record Entry(string Category, LogLevel Level, string Message, Exception? Exception, string? TraceId)
    {
        /// <summary>The message with its exception, if any, where a provider's error would say what was missing.</summary>
        public string Text => Exception is null ? Message : $"{Message} {Exception}";
    }

    private sealed class Logger(string category, ConcurrentQueue<Entry> entries) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            entries.Enqueue(new Entry(category, logLevel, formatter(state, exception), exception, Activity.Current?.TraceId.ToString()));
    }
}
