using Microsoft.Extensions.Logging;

namespace Orchestrator.Tests.Infrastructure;

/// <summary>One captured log entry: the formatted message with the exception text appended.</summary>
public sealed record CapturedLog(DateTimeOffset Time, string Category, LogLevel Level, string Text);

/// <summary>Records every log entry of the silos it is registered in, and lets a test await entries.</summary>
public sealed class CapturingLoggerProvider : ILoggerProvider
{
    private readonly Lock _sync = new();
    private readonly List<CapturedLog> _entries = [];
    private readonly List<(Func<CapturedLog, bool> Match, int Count, TaskCompletionSource<IReadOnlyList<CapturedLog>> Done)> _waiters = [];

    /// <summary>Every entry so far, oldest first.</summary>
    public IReadOnlyList<CapturedLog> Entries
    {
        get
        {
            lock (_sync)
            {
                return [.. _entries];
            }
        }
    }

    /// <summary>Completes with the first <paramref name="count"/> entries matching <paramref name="match"/> (already logged or future).</summary>
    public async Task<IReadOnlyList<CapturedLog>> WaitForAsync(Func<CapturedLog, bool> match, int count, string description, TimeSpan timeout)
    {
        var done = new TaskCompletionSource<IReadOnlyList<CapturedLog>>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_sync)
        {
            var matching = _entries.Where(match).Take(count).ToList();
            if (matching.Count == count)
            {
                return matching;
            }

            _waiters.Add((match, count, done));
        }

        try
        {
            return await done.Task.WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            int matched;
            lock (_sync)
            {
                matched = _entries.Count(match);
            }

            throw new TimeoutException($"Timed out after {timeout.TotalSeconds:0} s waiting for {count} log entries: {description}; {matched} so far.");
        }
    }

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private void Add(CapturedLog entry)
    {
        lock (_sync)
        {
            _entries.Add(entry);
            for (var i = _waiters.Count - 1; i >= 0; i--)
            {
                var (match, count, done) = _waiters[i];
                if (match(entry))
                {
                    var matching = _entries.Where(match).Take(count).ToList();
                    if (matching.Count == count)
                    {
                        _waiters.RemoveAt(i);
                        done.TrySetResult(matching);
                    }
                }
            }
        }
    }

    private sealed class Logger(CapturingLoggerProvider provider, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var text = formatter(state, exception);
            if (exception is not null)
            {
                text += Environment.NewLine + exception;
            }

            provider.Add(new CapturedLog(DateTimeOffset.UtcNow, category, logLevel, text));
        }
    }
}
