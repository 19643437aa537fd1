namespace Gantry.Api;

/// <summary>
/// The control planes of a store as this one sees them: its own name, whether it leads, and the lease (the leader,
/// the fencing token, until when). A server alone leads always, without a lease. Among replicas, the router table the
/// leader published last and what each replica reported of its machine's router.
/// </summary>
public sealed record ClusterView(string Replica, bool Clustered, bool Leading, string? Leader, long? Token, DateTimeOffset? LeaseExpiresAt)
{
    /// <summary>The version of the router table the leader published last (null alone, or before any).</summary>
    public long? Table { get; init; }

    /// <summary>Who published <see cref="Table"/>.</summary>
    public string? TablePublisher { get; init; }

    /// <summary>Every replica that reported, by name (empty alone).</summary>
    public IReadOnlyList<ReplicaView> Replicas { get; init; } = [];
}

/// <summary>
/// A replica as it last reported: when, whether that is recent enough to count it alive (the leader waits for the
/// routers of live replicas only), the table its machine's router has in force, and why not the newest.
/// </summary>
public sealed record ReplicaView(string Name, bool Alive, DateTimeOffset SeenAt, long Table, string? TableError);
