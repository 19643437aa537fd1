namespace Gantry.Core.Runtime;

/// <summary>A service in an environment: what a rollout targets and what owns instance sets. Written <c>service/environment</c>.</summary>
public readonly record struct TargetId(string Service, string Environment)
{
    /// <summary>The set of this target known by <paramref name="key"/> (a version, or VERSION~baseline).</summary>
    public InstanceSetId Set(string key) => new(Service, Environment, key);

    public override string ToString() => $"{Service}/{Environment}";
}

/// <summary>One instance set: a service, an environment and the set's key (the version, or a name such as VERSION~baseline). Written <c>service/environment/key</c>.</summary>
public readonly record struct InstanceSetId(string Service, string Environment, string Key)
{
    public TargetId Target => new(Service, Environment);

    /// <summary>Whether the set belongs to <paramref name="target"/>.</summary>
    public bool BelongsTo(TargetId target) => Service == target.Service && Environment == target.Environment;

    public override string ToString() => $"{Service}/{Environment}/{Key}";
}
