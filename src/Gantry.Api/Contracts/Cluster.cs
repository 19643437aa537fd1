namespace Gantry.Api;

/// <summary>
/// The control planes of a store as this one sees them: its own name, whether it leads, and the lease (the leader,
/// the fencing token, until when). A server alone leads always, without a lease.
/// </summary>
public sealed record ClusterView(string Replica, bool Clustered, bool Leading, string? Leader, long? Token, DateTimeOffset? LeaseExpiresAt);
