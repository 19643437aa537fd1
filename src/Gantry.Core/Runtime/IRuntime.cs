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
    public InstanceSetId SetId => new(Service.Name, Environment, Key);

    /// <summary>The names of <see cref="ExtraEnv"/> whose values are secret: a runtime whose engine shows environments hands them over another way.</summary>
    public IReadOnlySet<string> Secrets { get; init; } = new HashSet<string>();
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

    /// <summary>Cannot be started as specified (its image does not exist): not retried; its error says why.</summary>
    Failed,
}

/// <summary>What is observed of one instance.</summary>
public sealed record InstanceStatus(
    string Id,
    InstanceSetId SetId,
    string Version,
    Endpoint Address,
    InstancePhase Phase,
    int Restarts,
    int? ProcessId,
    string? LastError,
    int Index = 0)
{
    /// <summary>The set's name within its service and environment.</summary>
    public string SetKey => SetId.Key;
}

/// <summary>
/// Runs instances of service versions. Every operation is idempotent: <see cref="EnsureAsync"/> says what
/// should run and the runtime makes it so, adopting what already runs.
/// </summary>
public interface IRuntime : IAsyncDisposable
{
    /// <summary>The runtime's name: the key of the service section it runs (<see cref="RuntimeSpec.Kind"/>).</summary>
    string Name { get; }

    /// <summary>What this runtime can do beyond starting, stopping and observing instances.</summary>
    RuntimeCapabilities Capabilities { get; }

    /// <summary>Whether it runs services with this runtime section (its own name; a set of runtimes, each of theirs).</summary>
    bool Runs(string kind) => kind == Name;

    /// <summary>Makes exactly <see cref="InstanceSetSpec.Replicas"/> instances of the set run (starting or stopping some).</summary>
    Task<IReadOnlyList<InstanceStatus>> EnsureAsync(InstanceSetSpec spec, CancellationToken ct);

    /// <summary>Stops every instance of a set, gracefully.</summary>
    Task StopAsync(InstanceSetId setId, CancellationToken ct);

    /// <summary>The instances of every set, as last observed.</summary>
    IReadOnlyList<InstanceStatus> Observe();

    /// <summary>
    /// The instances of one service in one environment, as last observed: what the reconciler reads for each target it
    /// visits, so a runtime that keeps its instances by set answers without making every instance's status (a resync
    /// of N targets would otherwise make N x N).
    /// </summary>
    IReadOnlyList<InstanceStatus> Observe(TargetId target) => [.. Observe().Where(i => i.SetId.BelongsTo(target))];

    /// <summary>
    /// Calls <paramref name="changed"/> (on any thread, quickly: it should only signal) whenever an instance's observed
    /// status changes, for runtimes with <see cref="RuntimeCapabilities.ChangeSignals"/>; others never call it.
    /// </summary>
    void WhenChanged(Action changed)
    {
    }

    /// <summary>The last lines an instance wrote to stdout and stderr.</summary>
    Task<IReadOnlyList<string>> LogsAsync(string instanceId, CancellationToken ct);

    /// <summary>What an instance uses now (CPU and memory), for runtimes with <see cref="RuntimeCapabilities.Usage"/>; null otherwise or when it is not running.</summary>
    Task<InstanceUsage?> UsageAsync(string instanceId, CancellationToken ct) => Task.FromResult<InstanceUsage?>(null);

    /// <summary>
    /// Stops supervising every instance and leaves them running, recorded for whoever drives them next (a replica
    /// that lost the lead); the next <see cref="EnsureAsync"/> of a set takes its instances back.
    /// </summary>
    Task ReleaseAsync(CancellationToken ct) => Task.CompletedTask;
}

/// <summary>One reading of an instance's resources: CPU in cores (1.0 is one core busy), memory in bytes, and its limits when it has them.</summary>
public sealed record InstanceUsage(double CpuCores, long MemoryBytes, long? MemoryLimit, double? CpuLimit = null);

/// <summary>What a runtime can do beyond running instances of its own kind of service section.</summary>
[Flags]
public enum RuntimeCapabilities
{
    None = 0,

    /// <summary>Instances keep running when the control plane stops, and a new control plane adopts them.</summary>
    Adoption = 1,

    /// <summary>Instances run as an unprivileged user of their own, apart from the control plane's files.</summary>
    UserIsolation = 2,

    /// <summary>The last lines an instance wrote can be read (<see cref="IRuntime.LogsAsync"/>).</summary>
    Logs = 4,

    /// <summary>Instances run on more than one machine.</summary>
    MultiHost = 8,

    /// <summary>An instance's CPU and memory can be read (<see cref="IRuntime.UsageAsync"/>).</summary>
    Usage = 16,

    /// <summary>Every change of what <see cref="IRuntime.Observe()"/> answers is told to <see cref="IRuntime.WhenChanged"/> as it happens, so no one needs to poll.</summary>
    ChangeSignals = 32,
}

/// <summary>Checks that a runtime can run the services of a manifest.</summary>
public static class RuntimeFit
{
    /// <summary>One line per runtime section (a service's, or an environment's override of it) this runtime cannot run; empty when all fit.</summary>
    public static IReadOnlyList<string> Problems(IRuntime runtime, GantryManifest manifest) =>
        [.. manifest.Services.SelectMany(s => EffectiveService.RuntimesOf(manifest, s).Select(r => (s.Name, r.Kind))).Distinct()
            .Where(s => !runtime.Runs(s.Kind))
            .Select(s => $"service '{s.Name}' has a '{s.Kind}' section, but the runtime in use is '{runtime.Name}'")];
}
