namespace Gantry.Runtime.Process;

/// <summary>An instance's output: kept in memory (the last lines) and in its log file, or read from its file or its engine.</summary>
internal sealed partial class ManagedInstance
{
    public async Task<IReadOnlyList<string>> LogsAsync(CancellationToken ct)
    {
        if (options.Launcher is { } launcher)
        {
            // What Gantry did before the container ran (an image's pull), then the container's own output.
            string[] notes;
            lock (gate)
            {
                notes = [.. log];
            }

            return [.. notes, .. await launcher.LogsAsync(Id, ct)];
        }

        if (options.Detached && LogPath is { } path)
        {
            return LogTail.Read(path, LogLines);
        }

        lock (gate)
        {
            return [.. log];
        }
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (gate)
        {
            log.Enqueue(line);
            while (log.Count > LogLines)
            {
                log.Dequeue();
            }

            logFile?.Write(line + "\n");
        }
    }
}
