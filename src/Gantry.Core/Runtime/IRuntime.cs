using Gantry.Core.Manifest;
using Gantry.Core.Manifest.Values;

namespace Gantry.Core.Runtime;

/// <summary>
/// What should run: <see cref="Replicas"/> instances of one version of a service in one environment. A
/// second set of the same version (a fresh baseline) has its own <see cref="Name"/>.
/// </summary>
public sealed record InstanceSetSpec(
    ServiceSpec Service,
    string Environment,
    string Version,
    int Replicas,
    string ManifestFolder,
    IReadOnlyDictionary<string, string> ExtraEnv,
    string? Name = null)
{
    /// <summary>The set's name within its service and environment: the version unless named.</summary>
    public string Key => Name ?? Version;

    /// <summary>Identifies the set: instances of the same service, environment and key are the same set.</summary>
    public string SetId => $"{Service.Name}/{Environment}/{Key}";
}

public enum InstancePhase
{
    /// <summary>Started; its startup probe has not passed yet.</summary>
    Starting,

    /// <summary>Running and its readiness probe passes (or it has none): it may receive traffic.</summary>
    Ready,

    /// <summary>Running but its readiness probe fails.</summary>
    NotReady,

    /// <summary>Exited or failed its startup/liveness probe; waiting to be restarted.</summary>
    Crashed,

    /// <summary>Being stopped, or stopped.</summary>
    Stopped,
}

/// <summary>What is observed of one instance.</summary>
public sealed record InstanceStatus(
    string Id,
    string SetId,
    string Version,
    Endpoint Address,
    InstancePhase Phase,
    int Restarts,
    int? ProcessId,
    string? LastError,
    int Index = 0)
{
    /// <summary>The set's name within its service and environment (the last part of <see cref="SetId"/>).</summary>
    public string SetKey => SetId[(SetId.LastIndexOf('/') + 1)..];
}

/// <summary>
/// Runs instances of service versions. Every operation is idempotent: <see cref="EnsureAsync"/> says what
/// should run and the runtime makes it so, adopting what already runs.
/// </summary>
public interface IRuntime : IAsyncDisposable
{
    string Name { get; }

    /// <summary>Makes exactly <see cref="InstanceSetSpec.Replicas"/> instances of the set run (starting or stopping some).</summary>
    Task<IReadOnlyList<InstanceStatus>> EnsureAsync(InstanceSetSpec spec, CancellationToken ct);

    /// <summary>Stops every instance of a set, gracefully.</summary>
    Task StopAsync(string setId, CancellationToken ct);

    /// <summary>The instances of every set, as last observed.</summary>
    IReadOnlyList<InstanceStatus> Observe();

    /// <summary>The last lines an instance wrote to stdout and stderr.</summary>
    IReadOnlyList<string> Logs(string instanceId);
}
