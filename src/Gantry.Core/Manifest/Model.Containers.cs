namespace Gantry.Core.Manifest;

/// <summary>
/// How to run one instance as a container of the Docker engine, on host networking bound to the port Gantry leases.
/// The image and arguments may hold placeholders such as {version} and {port}.
/// </summary>
public sealed record DockerSpec(
    string Image,
    ValueList<string> Args,
    ValueList<KeyValuePair<string, string>> Env,
    TimeSpan StopTimeout,
    long? MemoryBytes = null,
    double? Cpus = null) : RuntimeSpec
{
    public const string RuntimeKind = "docker";

    public override string Kind => RuntimeKind;

    public override ValueList<KeyValuePair<string, string>> Env { get; init; } = Env;

    public override TimeSpan StopTimeout { get; init; } = StopTimeout;

    /// <summary>The program to run in place of the image's entrypoint, when given (its arguments are <see cref="Args"/>).</summary>
    public string? Command { get; init; }

    /// <summary>Host paths or named volumes mounted into the container.</summary>
    public ValueList<VolumeMount> Volumes { get; init; } = [];

    /// <summary>The most processes and threads the container may have.</summary>
    public int? Pids { get; init; }

    /// <summary>The image's file system is read-only (a small /tmp is writable).</summary>
    public bool ReadOnly { get; init; }

    /// <summary>The user and group the container runs as (never root); nobody when not given.</summary>
    public string? User { get; init; }

    /// <summary>The signal that asks the container to stop, such as SIGTERM or SIGQUIT.</summary>
    public string StopSignal { get; init; } = "SIGTERM";

    /// <summary>How many earlier releases' containers are kept for an instant rollback, and for how long.</summary>
    public RetainSpec? Retain { get; init; }
}

/// <summary>
/// How to run a release set as a service of a Docker Swarm: its tasks are the instances, on host networking, each
/// on the port of its task slot (<see cref="Container"/> holds image, arguments, environment and limits, as for docker).
/// </summary>
public sealed record SwarmSpec(DockerSpec Container, SwarmPlacement Placement) : RuntimeSpec
{
    public const string RuntimeKind = "swarm";

    public override string Kind => RuntimeKind;

    public override ValueList<KeyValuePair<string, string>> Env { get => Container.Env; init => Container = Container with { Env = value }; }

    public override TimeSpan StopTimeout { get => Container.StopTimeout; init => Container = Container with { StopTimeout = value }; }
}

/// <summary>Where a swarm service's tasks may run (<see cref="Constraints"/> such as node.labels.zone==a), how they spread (by node labels, in order), and how many of one set share a node.</summary>
public sealed record SwarmPlacement(ValueList<string> Constraints, ValueList<string> Spread, int? MaxPerNode)
{
    public static SwarmPlacement None { get; } = new([], [], null);
}

/// <summary>A mount of a container: a host path (relative to the manifest's folder) or a named volume, at an absolute path in the container.</summary>
public sealed record VolumeMount(string Source, string Target, bool ReadOnly)
{
    /// <summary>Whether <see cref="Source"/> is a path on the host rather than the name of an engine volume.</summary>
    public bool IsHostPath => Source.StartsWith('/') || Source.StartsWith('.');
}

/// <summary>
/// Containers of the last <see cref="Releases"/> releases that left traffic are kept (stopped, or running when
/// <see cref="Warm"/>) for <see cref="For"/>, so a rollback to one of them is a start and a switch.
/// </summary>
public sealed record RetainSpec(int Releases, TimeSpan For, bool Warm)
{
    public static readonly TimeSpan DefaultFor = TimeSpan.FromHours(24);
}
