using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace Gantry.Server.Logging;

/// <summary>
/// Writes every log entry as one JSON line (time, level, category, message, exception) to a file, appended and
/// flushed line by line, so that an operator finds what a 500 was about. The framework has JSON console logging
/// but no file provider; this is the few lines a file needs.
/// </summary>
public sealed class JsonFileLoggerProvider : ILoggerProvider
{
    private readonly StreamWriter writer;
    private readonly Lock gate = new();
    private readonly TimeProvider time;
    private readonly LogLevel minimum;

    public JsonFileLoggerProvider(string path, TimeProvider time, LogLevel minimum = LogLevel.Information)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var options = new FileStreamOptions { Mode = FileMode.Append, Access = FileAccess.Write, Share = FileShare.Read };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        writer = new StreamWriter(new FileStream(path, options)) { AutoFlush = true };
        this.time = time;
        this.minimum = minimum;
    }

    public ILogger CreateLogger(string categoryName) => new FileLogger(this, categoryName);

    public void Dispose()
    {
        lock (gate)
        {
            writer.Dispose();
        }
    }

    private void Write(string category, LogLevel level, EventId id, string message, Exception? exception)
    {
        var line = JsonSerializer.Serialize(new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["time"] = time.GetUtcNow(),
            ["level"] = level.ToString(),
            ["category"] = category,
            ["event"] = id.Name,
            ["message"] = message,
            ["exception"] = exception?.ToString(),
        });
        lock (gate)
        {
            writer.WriteLine(line);
        }
    }

    private sealed class FileLogger(JsonFileLoggerProvider provider, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= provider.minimum && logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                provider.Write(category, logLevel, eventId, formatter(state, exception), exception);
            }
        }
    }
}
