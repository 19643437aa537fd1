using Gantry.Core.Access;
using Gantry.Server.Access;
using Gantry.Server.Rollouts;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Gantry.Server.Api;

/// <summary>Incidents, DORA metrics and notifications. Acting on an incident needs the deployer or approver role in its environment.</summary>
public static partial class ApiEndpoints
{
    private static void MapIncidents(RouteGroupBuilder api, Core.Rollouts.IRolloutStore store, Incidents.IncidentService incidents, Core.Incidents.IIncidentStore incidentStore, Core.Dora.IDoraStore dora, Core.Notifications.IDeliveryStore deliveries, TimeProvider time)
    {
        var viewer = new Requires(Role.Viewer);
        // Responders: a deployer or an approver, in the incident's environment. The emergency role is for emergency deploys only.
        var responder = new Requires(Role.Deployer, Role.Approver);
        api.MapGet("/incidents", async (string? service, string? environment, bool? open, int? limit, CancellationToken ct) =>
            Results.Ok(await incidentStore.IncidentsAsync(new Core.Incidents.IncidentQuery(service, environment, open ?? false, null, Math.Clamp(limit ?? 50, 1, 1000)), ct)))
            .WithName("ListIncidents").WithMetadata(viewer);

        api.MapPost("/incidents", async (Incidents.OpenIncidentRequest request, HttpContext http, CancellationToken ct) =>
        {
            if (Responder(http, incidents.EnvironmentOf(request)) is { } denied)
            {
                return denied;
            }

            var result = await incidents.OpenAsync(request, AccessControl.WhoOf(http), ct);
            return result.Problem is { } p ? Problem(p) : Results.Created($"/api/v1/incidents/{result.Value!.Incident.Id}", result.Value);
        }).WithName("OpenIncident").WithMetadata(responder);

        api.MapGet("/incidents/{id}", async (string id, CancellationToken ct) =>
            IncidentId(id) is not { } n ? Problem(UnknownIncident(id)) : Answer(await incidents.GetAsync(n, ct))).WithName("GetIncident").WithMetadata(viewer);

        api.MapGet("/incidents/{id}/postmortem", async (string id, CancellationToken ct) =>
        {
            if (IncidentId(id) is not { } n || await incidents.GetAsync(n, ct) is not { Value: { } view })
            {
                return Problem(UnknownIncident(id));
            }

            return Results.Text(await Incidents.Postmortem.WriteAsync(view, store, dora, time, ct), "text/markdown; charset=utf-8");
        }).WithName("GetPostmortem").WithMetadata(viewer);

        foreach (var (name, status) in new[] { ("acknowledge", Core.Incidents.IncidentStatus.Acknowledged), ("mitigate", Core.Incidents.IncidentStatus.Mitigated), ("resolve", Core.Incidents.IncidentStatus.Resolved) })
        {
            api.MapPost($"/incidents/{{id}}/{name}", async (string id, HttpContext http, CancellationToken ct) =>
            {
                if (IncidentId(id) is not { } n || await incidentStore.IncidentAsync(n, ct) is not { } incident)
                {
                    return Problem(UnknownIncident(id));
                }

                return Responder(http, incident.Environment) ?? Answer(await incidents.MoveAsync(n, status, (await Body(http, ct)).Reason, AccessControl.WhoOf(http), ct));
            }).WithName($"{Capital(name)}Incident").WithMetadata(responder);
        }

        api.MapGet("/dora", async (string? service, string? environment, string? since, CancellationToken ct) =>
        {
            var period = TimeSpan.FromDays(90);
            if (since is not null && Core.Manifest.Values.DurationSyntax.TryParse(since, out period) is { } error)
            {
                return Problem(new Problem(400, "Invalid request", $"'since': {error.Message} (for example 90d)"));
            }

            if (period <= TimeSpan.Zero || period > TimeSpan.FromDays(730))
            {
                return Problem(new Problem(400, "Invalid request", "'since' must be more than 0 and at most 730d (two years)"));
            }

            var to = time.GetUtcNow();
            var from = to - period;
            var (facts, restores) = await dora.DoraFactsAsync(service, environment, from, to, ct);
            return Results.Ok(Core.Dora.DoraMetrics.Compute(service, environment, from, to, facts, restores));
        }).WithName("GetDora").WithMetadata(viewer);

        api.MapGet("/notifications", async (string? status, int? limit, CancellationToken ct) =>
            status is not null && !Enum.TryParse<Core.Notifications.DeliveryStatus>(status, ignoreCase: true, out _)
                ? Problem(new Problem(400, "Invalid request", $"status '{status}' is not pending, delivered or dead"))
                : Results.Ok(await deliveries.DeliveriesAsync(status is null ? null : Enum.Parse<Core.Notifications.DeliveryStatus>(status, ignoreCase: true), Math.Clamp(limit ?? 100, 1, 1000), ct)))
            .WithName("ListNotifications").WithMetadata(viewer);

    }

    /// <summary>Null when the caller may act on an incident in <paramref name="environment"/> as a deployer or an approver there.</summary>
    private static IResult? Responder(HttpContext http, string? environment) =>
        AccessControl.CallerOf(http) is { } caller && (caller.May(Role.Deployer, environment) || caller.May(Role.Approver, environment))
            ? null
            : AccessControl.Forbidden(AccessControl.CallerOf(http) is { } c
                ? $"{c.Name} may act on incidents only in {string.Join(", ", c.Environments)}, not in {environment}"
                : "not authenticated");
}
