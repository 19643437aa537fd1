using Gantry.Core.Audit;
using Gantry.Core.Traffic;
using Gantry.Server.Reconciler;

namespace Gantry.Server.Rollouts;

/// <summary>Maintenance mode: a service's router answers 503 with a message (and Retry-After) until it is turned off; each switch audited.</summary>
public sealed class MaintenanceService(GantryManifest manifest, IMaintenanceStore store, ReconcilerSignals signals, TimeProvider time)
{
    public async Task<Result<Maintenance>> OnAsync(string service, MaintenanceRequest request, AuditContext who, CancellationToken ct)
    {
        if (Requests.Resolve(manifest, service, request.Environment, out var spec, out var environment) is { } problem)
        {
            return problem;
        }

        if (Requests.TooLong(request.Message, "message") is { } tooLong)
        {
            return tooLong;
        }

        var maintenance = new Maintenance(spec.Name, environment, string.IsNullOrWhiteSpace(request.Message) ? Maintenance.DefaultMessage : request.Message.Trim(), who.Actor, time.GetUtcNow());
        await store.SetMaintenanceAsync(maintenance, who, ct);
        signals.Wake.Pulse();
        return maintenance;
    }

    public async Task<Result<Maintenance>> OffAsync(string service, string? environmentName, AuditContext who, CancellationToken ct)
    {
        if (Requests.Resolve(manifest, service, environmentName, out var spec, out var environment) is { } problem)
        {
            return problem;
        }

        if (await store.ClearMaintenanceAsync(spec.Name, environment, time.GetUtcNow(), who, ct) is not { } cleared)
        {
            return ProblemCodes.NotInMaintenance.With($"{spec.Name} in {environment} is not in maintenance");
        }

        signals.Wake.Pulse();
        return cleared;
    }
}
