namespace Gantry.Core.Traffic;

/// <summary>A service in an environment answered by its router with 503 and <see cref="Message"/> instead of its instances, since <see cref="Since"/>.</summary>
public sealed record Maintenance(string Service, string Environment, string Message, string By, DateTimeOffset Since)
{
    /// <summary>What clients are told when no message was given.</summary>
    public const string DefaultMessage = "down for maintenance; back soon";

    /// <summary>What the router tells clients to wait before trying again, in seconds.</summary>
    public const int RetryAfterSeconds = 30;
}

/// <summary>
/// New requests to a service in an environment held in its router since <see cref="Since"/>, each for at most
/// <see cref="MaxWait"/>: released when the pause ends, answered 503 at the limit (kamal-proxy's pause).
/// </summary>
public sealed record TrafficPause(string Service, string Environment, TimeSpan MaxWait, string By, DateTimeOffset Since)
{
    public static readonly TimeSpan DefaultMaxWait = TimeSpan.FromSeconds(30);

    /// <summary>The longest a request may be held: longer, and clients and load balancers in front give up anyway.</summary>
    public static readonly TimeSpan Limit = TimeSpan.FromMinutes(10);

    /// <summary>What the router tells a client it could not hold any longer.</summary>
    public const int RetryAfterSeconds = 5;
}

/// <summary>Where the traffic switches (maintenance, pauses) are kept; turning one on or off is audited in the same transaction.</summary>
public interface IMaintenanceStore
{
    /// <summary>Turns maintenance on (or changes its message).</summary>
    Task SetMaintenanceAsync(Maintenance maintenance, Audit.AuditContext who, CancellationToken ct);

    /// <summary>Turns maintenance off; the switch as it was, or null when it was not on.</summary>
    Task<Maintenance?> ClearMaintenanceAsync(string service, string environment, DateTimeOffset at, Audit.AuditContext who, CancellationToken ct);

    /// <summary>Every service and environment in maintenance now.</summary>
    Task<IReadOnlyList<Maintenance>> MaintenanceAsync(CancellationToken ct);

    /// <summary>Holds new requests (or changes how long each may be held).</summary>
    Task PauseAsync(TrafficPause pause, Audit.AuditContext who, CancellationToken ct);

    /// <summary>Releases them; the pause as it was, or null when there was none.</summary>
    Task<TrafficPause?> ResumeAsync(string service, string environment, DateTimeOffset at, Audit.AuditContext who, CancellationToken ct);

    /// <summary>Every service and environment whose requests are held now.</summary>
    Task<IReadOnlyList<TrafficPause>> PausesAsync(CancellationToken ct);
}

/// <summary>The traffic switches in force, as the routing planner reads them each pass.</summary>
public sealed record TrafficSwitches(IReadOnlyList<Maintenance> Maintenance, IReadOnlyList<TrafficPause> Pauses)
{
    public static TrafficSwitches None { get; } = new([], []);

    public static async Task<TrafficSwitches> ReadAsync(IMaintenanceStore store, CancellationToken ct) =>
        new(await store.MaintenanceAsync(ct), await store.PausesAsync(ct));

    /// <summary>The maintenance message of a service in an environment, while it is in maintenance.</summary>
    public string? MessageFor(string service, string environment) => Maintenance.FirstOrDefault(m => m.Service == service && m.Environment == environment)?.Message;

    /// <summary>How long each request may be held, while the service's requests are paused.</summary>
    public TimeSpan? PauseFor(string service, string environment) => Pauses.FirstOrDefault(p => p.Service == service && p.Environment == environment)?.MaxWait;
}
