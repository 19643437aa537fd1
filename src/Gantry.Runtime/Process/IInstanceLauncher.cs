using Gantry.Core.Manifest.Values;
using Gantry.Core.Runtime;

namespace Gantry.Runtime.Process;

/// <summary>What an instance is started with: its set, its id and index, the address it must listen on, the values its texts' placeholders expand to, and the environment Gantry adds.</summary>
public sealed record InstanceLaunch(InstanceSetSpec Spec, string Id, int Index, Endpoint Address, IReadOnlyDictionary<string, string> Values, IReadOnlyDictionary<string, string> Environment);

/// <summary>
/// Starts the process of an instance some other way than as a local program (a container of an engine); the
/// supervision around it (probes, restarts with back-off, stopping) is the process runtime's.
/// </summary>
public interface IInstanceLauncher
{
    /// <summary>The runtime section it runs (<c>docker</c>).</summary>
    string Kind { get; }

    /// <summary>Starts the instance; throws with the engine's message when it cannot (a missing image).</summary>
    Task<LaunchedProcess> LaunchAsync(InstanceLaunch launch, CancellationToken ct);

    /// <summary>Removes what is left of a stopped instance.</summary>
    Task RemoveAsync(string instanceId, CancellationToken ct);

    /// <summary>The instance's last lines of output.</summary>
    IReadOnlyList<string> Logs(string instanceId);

    /// <summary>How an instance's process ended, as the engine tells it (exit code, out of memory, last lines).</summary>
    string ExitOf(string instanceId);
}

/// <summary>The instance cannot be started as specified (its image does not exist): retrying changes nothing.</summary>
public sealed class InstanceCannotStartException(string message) : InvalidOperationException(message);

/// <summary>A launched instance's first process on this host: its pid (signals reach it) and its start time.</summary>
public sealed record LaunchedProcess(int Pid, long StartTime);
