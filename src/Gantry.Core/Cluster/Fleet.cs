namespace Gantry.Core.Cluster;

/// <summary>
/// The routing table the leading replica put in force, as it published it in the store for every other replica to
/// give its own machine's router: numbered (one more at every change), with who published it and when.
/// </summary>
/// <param name="Routes">The routes as the router's admin API takes them (JSON).</param>
public sealed record PublishedTable(long Version, string Routes, string Publisher, DateTimeOffset At);

/// <summary>
/// A replica's last word in the store: when it was last seen, which published table its machine's router has in
/// force (read back), and, while it has not, why.
/// </summary>
public sealed record ReplicaReport(string Name, DateTimeOffset SeenAt, long TableVersion, string? TableError)
{
    /// <summary>Seen within <paramref name="within"/> of <paramref name="now"/>: a replica whose router must verify a split.</summary>
    public bool Alive(DateTimeOffset now, TimeSpan within) => now - SeenAt <= within;
}

/// <summary>Replicas on several machines, each with its own router, agreeing through the store on the table in force.</summary>
public interface IFleetStore
{
    /// <summary>
    /// Publishes <paramref name="routes"/> as the next table, while <paramref name="fence"/> still holds (else null: a
    /// deposed leader publishes nothing). The same routes as the table published now keep its version.
    /// </summary>
    Task<long?> PublishTableAsync(string routes, LeaseFence fence, DateTimeOffset now, CancellationToken ct);

    /// <summary>The table published last (null before any).</summary>
    Task<PublishedTable?> PublishedTableAsync(CancellationToken ct);

    /// <summary>The version of the table published last (0 before any): a cheap look, without the routes.</summary>
    Task<long> PublishedVersionAsync(CancellationToken ct);

    /// <summary>Records a replica's report, replacing its previous one.</summary>
    Task ReportReplicaAsync(ReplicaReport report, CancellationToken ct);

    /// <summary>Every replica's last report, by name.</summary>
    Task<IReadOnlyList<ReplicaReport>> ReplicasAsync(CancellationToken ct);

    /// <summary>The store's own name (16 hex digits, drawn when its schema was made): what its replicas share is marked with it.</summary>
    Task<string> ClusterIdAsync(CancellationToken ct);
}
