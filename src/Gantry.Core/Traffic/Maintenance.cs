namespace Gantry.Core.Traffic;

/// <summary>A service in an environment answered by its router with 503 and <see cref="Message"/> instead of its instances, since <see cref="Since"/>.</summary>
public sealed record Maintenance(string Service, string Environment, string Message, string By, DateTimeOffset Since)
{
    /// <summary>What clients are told when no message was given.</summary>
    public const string DefaultMessage = "down for maintenance; back soon";

    /// <summary>What the router tells clients to wait before trying again, in seconds.</summary>
    public const int RetryAfterSeconds = 30;
}

/// <summary>Where maintenance switches are kept; turning one on or off is audited in the same transaction.</summary>
public interface IMaintenanceStore
{
    /// <summary>Turns maintenance on (or changes its message).</summary>
    Task SetMaintenanceAsync(Maintenance maintenance, Audit.AuditContext who, CancellationToken ct);

    /// <summary>Turns maintenance off; the switch as it was, or null when it was not on.</summary>
    Task<Maintenance?> ClearMaintenanceAsync(string service, string environment, DateTimeOffset at, Audit.AuditContext who, CancellationToken ct);

    /// <summary>Every service and environment in maintenance now.</summary>
    Task<IReadOnlyList<Maintenance>> MaintenanceAsync(CancellationToken ct);
}
