using Gantry.Core.Manifest.Values;
using Gantry.Core.Runtime;

namespace Gantry.Runtime.Process;

/// <summary>
/// What an instance is started with: its set, its id and index, the address it must listen on, the values its texts'
/// placeholders expand to, the environment Gantry adds, and the secret variables (never in the environment an
/// engine shows: the launcher hands them over its own way).
/// </summary>
public sealed record InstanceLaunch(InstanceSetSpec Spec, string Id, int Index, Endpoint Address, IReadOnlyDictionary<string, string> Values, IReadOnlyDictionary<string, string> Environment)
{
    public IReadOnlyDictionary<string, string> Secrets { get; init; } = new Dictionary<string, string>();

    /// <summary>Where the launcher reports what it does before the instance runs (an image's pull progress).</summary>
    public Action<string>? Progress { get; init; }
}

/// <summary>An instance a launcher kept after its set stopped (a retained release): its index and port, and its process when it was kept running.</summary>
public sealed record RetainedInstance(string Id, int Index, int Port, LaunchedProcess? Running);

/// <summary>
/// Starts the process of an instance some other way than as a local program (a container of an engine); the
/// supervision around it (probes, restarts with back-off, stopping) is the process runtime's.
/// </summary>
public interface IInstanceLauncher
{
    /// <summary>The runtime section it runs (<c>docker</c>).</summary>
    string Kind { get; }

    /// <summary>Starts the instance (again, when what is kept of it was started the same way); throws with the engine's message when it cannot (a missing image).</summary>
    Task<LaunchedProcess> LaunchAsync(InstanceLaunch launch, CancellationToken ct);

    /// <summary>An instance stopped for good: what is left of it is removed, or kept when its service retains releases.</summary>
    Task StoppedAsync(InstanceSetSpec spec, string instanceId, CancellationToken ct);

    /// <summary>Whether a set leaving traffic is kept running (warm), rather than stopped.</summary>
    bool KeepsRunning(InstanceSetSpec spec);

    /// <summary>What is kept of a set (a release retained for rollback), to be started or taken back rather than created.</summary>
    Task<IReadOnlyList<RetainedInstance>> RetainedAsync(InstanceSetSpec spec, CancellationToken ct);

    /// <summary>Keeps only the releases the service retains (the newest, within their time); the rest, and images nothing uses any more, go. <paramref name="live"/> are the sets running now, and those still stopping (left to their own stop).</summary>
    Task PruneAsync(InstanceSetSpec spec, IReadOnlySet<InstanceSetId> live, CancellationToken ct);

    /// <summary>The instance's last lines of output (none when the engine does not answer).</summary>
    Task<IReadOnlyList<string>> LogsAsync(string instanceId, CancellationToken ct);

    /// <summary>How an instance's process ended, as the engine tells it (exit code, out of memory, last lines).</summary>
    Task<string> ExitOfAsync(string instanceId, CancellationToken ct);

    /// <summary>CPU (cores) and memory (bytes) the instance uses now, when the engine measures them.</summary>
    Task<InstanceUsage?> UsageAsync(string instanceId, CancellationToken ct);
}

/// <summary>The instance cannot be started as specified (its image does not exist): retrying changes nothing.</summary>
public sealed class InstanceCannotStartException(string message) : InvalidOperationException(message);

/// <summary>A launched instance's first process on this host: its pid (signals reach it), its start time, and the signal that asks it to stop.</summary>
public sealed record LaunchedProcess(int Pid, long StartTime, int StopSignal = 15);
