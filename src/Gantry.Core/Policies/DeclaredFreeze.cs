namespace Gantry.Core.Policies;

/// <summary>
/// A freeze declared from the CLI or API (during an incident, say): an environment closed to deploys from
/// <see cref="At"/> until <see cref="Until"/> or until lifted, by whom and why.
/// </summary>
public sealed record DeclaredFreeze(long Id, string Environment, string Reason, string By, DateTimeOffset At, DateTimeOffset? Until, DateTimeOffset? LiftedAt = null, string? LiftedBy = null)
{
    public bool IsActive(DateTimeOffset now) => LiftedAt is null && At <= now && (Until is null || now < Until);
}

/// <summary>Where declared freezes are kept; declaring and lifting are audited with them.</summary>
public interface IFreezeStore
{
    Task<DeclaredFreeze> DeclareFreezeAsync(DeclaredFreeze freeze, CancellationToken ct, Audit.AuditContext? who = null);

    /// <summary>Lifts the active freezes of an environment; returns them (none when there were none).</summary>
    Task<IReadOnlyList<DeclaredFreeze>> LiftFreezesAsync(string environment, string by, DateTimeOffset at, CancellationToken ct, Audit.AuditContext? who = null);

    Task<IReadOnlyList<DeclaredFreeze>> FreezesAsync(string? environment, CancellationToken ct);
}
