namespace Gantry.Core.Cluster;

/// <summary>A lease as stored: who holds it, its fencing token (grown with every change of holder), and until when.</summary>
public sealed record Lease(string Name, string Holder, long Token, DateTimeOffset ExpiresAt);

/// <summary>A write made on the strength of a lease: it commits only while the lease still has this holder and token.</summary>
public sealed record LeaseFence(string Name, string Holder, long Token);

/// <summary>Leases kept in the store, so that control planes sharing it agree on who drives.</summary>
public interface ILeaseStore
{
    /// <summary>
    /// Takes the lease for <paramref name="holder"/> if it is free, expired or already theirs (then renewed with the
    /// same token), for <paramref name="ttl"/> from <paramref name="now"/>; returns the lease as it stands afterwards
    /// (another's when it is held).
    /// </summary>
    Task<Lease> TryLeadAsync(string name, string holder, TimeSpan ttl, DateTimeOffset now, CancellationToken ct);

    /// <summary>Gives the lease up at once if <paramref name="holder"/> holds it (a server stopping), so that another takes over without waiting for it to expire.</summary>
    Task ReleaseLeaseAsync(string name, string holder, CancellationToken ct);
}
