namespace Gantry.Runtime.Process;

/// <summary>
/// What every instance of a runtime shares: the clock, where logs go, the owner's mark, isolation,
/// and, for a detached data plane, where instance records are kept so that the next control plane adopts them.
/// </summary>
internal sealed record InstanceOptions(TimeProvider Time, string? LogDirectory, string? Owner, InstanceIsolation Isolation, string? RecordFolder, IInstanceLauncher? Launcher = null)
{
    /// <summary>Output goes to a file the instance writes itself (or its engine keeps), never a pipe to this process.</summary>
    public bool Detached => Launcher is null && RecordFolder is not null && LogDirectory is not null;

    /// <summary>Instances outlive this control plane and are adopted by the next: detached processes, or an engine's recorded instances.</summary>
    public bool Outlives => Detached || (Launcher is not null && RecordFolder is not null);

    /// <summary>Told when an instance's status changes (its phase, process, restarts or last error).</summary>
    public Action Changed { get; init; } = static () => { };
}
