using Gantry.Core.Audit;
using Gantry.Core.Traffic;
using Gantry.Server.Reconciler;

namespace Gantry.Server.Rollouts;

/// <summary>
/// Traffic switches: maintenance (a service's router answers 503 with a message and Retry-After until it is turned off)
/// and request pauses (new requests held in the router until resumed, each up to its limit); each switch audited.
/// </summary>
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

    public async Task<Result<TrafficPause>> PauseAsync(string service, PauseRequest request, AuditContext who, CancellationToken ct)
    {
        if (Requests.Resolve(manifest, service, request.Environment, out var spec, out var environment) is { } problem)
        {
            return problem;
        }

        var maxWait = TrafficPause.DefaultMaxWait;
        if (request.MaxWait is { } text && Core.Manifest.Values.DurationSyntax.TryParse(text, out maxWait) is { } bad)
        {
            return ProblemCodes.InvalidRequest.With($"maxWait: {bad.Message}");
        }

        if (maxWait <= TimeSpan.Zero || maxWait > TrafficPause.Limit)
        {
            return ProblemCodes.InvalidRequest.With($"maxWait must be above 0 and at most {TrafficPause.Limit.TotalMinutes:0} minutes");
        }

        var pause = new TrafficPause(spec.Name, environment, maxWait, who.Actor, time.GetUtcNow());
        await store.PauseAsync(pause, who, ct);
        signals.Wake.Pulse();
        return pause;
    }

    public async Task<Result<TrafficPause>> ResumeAsync(string service, string? environmentName, AuditContext who, CancellationToken ct)
    {
        if (Requests.Resolve(manifest, service, environmentName, out var spec, out var environment) is { } problem)
        {
            return problem;
        }

        if (await store.ResumeAsync(spec.Name, environment, time.GetUtcNow(), who, ct) is not { } resumed)
        {
            return ProblemCodes.NotPaused.With($"the requests of {spec.Name} in {environment} are not paused");
        }

        signals.Wake.Pulse();
        return resumed;
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
