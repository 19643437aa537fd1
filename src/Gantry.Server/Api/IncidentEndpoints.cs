using System.Globalization;
using Gantry.Core.Access;
using Gantry.Core.Dora;
using Gantry.Core.Incidents;
using Gantry.Core.Manifest.Values;
using Gantry.Core.Notifications;
using Gantry.Server.Access;
using Gantry.Server.Incidents;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Gantry.Server.Api;

/// <summary>Incidents, their postmortems, DORA metrics and notification deliveries. Acting on an incident needs the deployer or approver role in its environment.</summary>
public static class IncidentEndpoints
{
    public static void Map(RouteGroupBuilder api)
    {
        var viewer = new Requires(Role.Viewer);
        // Responders: a deployer or an approver, in the incident's environment. The emergency role is for emergency deploys only.
        var responder = new Requires(Role.Deployer, Role.Approver);
        api.MapGet(ApiRoutes.Incidents, async (string? service, string? environment, bool? open, int? limit, IIncidentStore store, CancellationToken ct) =>
            TypedResults.Ok((await store.IncidentsAsync(new IncidentQuery(service, environment, open ?? false, null, Math.Clamp(limit ?? 50, 1, 1000)), ct)).ToList()))
            .WithName("ListIncidents").WithMetadata(viewer);

        api.MapPost(ApiRoutes.Incidents, async Task<Results<Created<IncidentView>, ProblemHttpResult>> (OpenIncidentRequest request, HttpContext http, IncidentService incidents, CancellationToken ct) =>
        {
            if (Responder(http, incidents.EnvironmentOf(request)) is { } denied)
            {
                return denied;
            }

            var result = await incidents.OpenAsync(request, AccessControl.WhoOf(http), ct);
            return result.Problem is { } p ? ProblemResults.For(p) : TypedResults.Created(ApiRoutes.Fill(ApiRoutes.IncidentById, [result.Value!.Incident.Id.ToString(CultureInfo.InvariantCulture)]), result.Value);
        }).WithName("OpenIncident").WithMetadata(responder);

        // Alertmanager's webhook: an alerting identity (or an admin); each alert acts only in the environments the token may.
        api.MapPost(ApiRoutes.Alerts, async Task<Results<Ok<AlertIntakeAnswer>, ProblemHttpResult>> (AlertmanagerWebhook hook, HttpContext http, AlertIntakeService intake, CancellationToken ct) =>
            hook.Alerts is null
                ? ProblemResults.For(ProblemCodes.InvalidRequest, "not an Alertmanager webhook: no 'alerts' list")
                : TypedResults.Ok(await intake.ReceiveAsync(hook, AccessControl.WhoOf(http), environment => AccessControl.CallerOf(http)?.May(Role.Alerting, environment) == true, ct)))
            .WithName("ReceiveAlerts").WithMetadata(new Requires(Role.Alerting));

        api.MapGet(ApiRoutes.IncidentById, async Task<Results<Ok<IncidentView>, ProblemHttpResult>> (string id, IncidentService incidents, CancellationToken ct) =>
            IncidentId(id) is not { } n ? UnknownIncident(id) : ApiEndpoints.Answer(await incidents.GetAsync(n, ct))).WithName("GetIncident").WithMetadata(viewer);

        api.MapGet(ApiRoutes.IncidentPostmortem, async Task<Results<ContentHttpResult, ProblemHttpResult>> (string id, IncidentService incidents, IRolloutStore store, Core.Analysis.IAnalysisStore analysis, IDoraStore dora, TimeProvider time, CancellationToken ct) =>
            IncidentId(id) is not { } n || await incidents.GetAsync(n, ct) is not { Value: { } view }
                ? UnknownIncident(id)
                : TypedResults.Text(await Postmortem.WriteAsync(view, store, analysis, dora, time, ct), "text/markdown; charset=utf-8")).WithName("GetPostmortem").WithMetadata(viewer)
            .Produces<string>(StatusCodes.Status200OK, "text/markdown");

        foreach (var (name, status) in new[] { ("acknowledge", IncidentStatus.Acknowledged), ("mitigate", IncidentStatus.Mitigated), ("resolve", IncidentStatus.Resolved) })
        {
            api.MapPost(ApiRoutes.IncidentStep.Replace("{step}", name, StringComparison.Ordinal), async Task<Results<Ok<IncidentView>, ProblemHttpResult>> (string id, CommandRequest? request, HttpContext http, IIncidentStore store, IncidentService incidents, CancellationToken ct) =>
            {
                if (IncidentId(id) is not { } n || await store.IncidentAsync(n, ct) is not { } incident)
                {
                    return UnknownIncident(id);
                }

                return Responder(http, incident.Environment) is { } denied ? denied : ApiEndpoints.Answer(await incidents.MoveAsync(n, status, request?.Reason, AccessControl.WhoOf(http), ct));
            }).WithName($"{ApiEndpoints.Capital(name)}Incident").WithMetadata(responder);
        }

        api.MapGet(ApiRoutes.Dora, async Task<Results<Ok<DoraReport>, ProblemHttpResult>> (string? service, string? environment, string? since, IDoraStore dora, TimeProvider time, CancellationToken ct) =>
        {
            var period = TimeSpan.FromDays(90);
            if (since is not null && DurationSyntax.TryParse(since, out period) is { } error)
            {
                return ProblemResults.For(ProblemCodes.InvalidRequest, $"'since': {error.Message} (for example 90d)");
            }

            if (period <= TimeSpan.Zero || period > TimeSpan.FromDays(730))
            {
                return ProblemResults.For(ProblemCodes.InvalidRequest, "'since' must be more than 0 and at most 730d (two years)");
            }

            var to = time.GetUtcNow();
            var from = to - period;
            var (facts, restores) = await dora.DoraFactsAsync(service, environment, from, to, ct);
            return TypedResults.Ok(DoraMetrics.Compute(service, environment, from, to, facts, restores));
        }).WithName("GetDora").WithMetadata(viewer);

        api.MapGet(ApiRoutes.Slos, Results<Ok<List<SloView>>, ProblemHttpResult> (string? service, GantryManifest manifest, Slo.SloWatcher slos) =>
            service is not null && manifest.FindService(service) is null
                ? ProblemResults.For(ProblemCodes.UnknownService, $"there is no service '{service}' in the manifest")
                : TypedResults.Ok(slos.Statuses(service).ToList()))
            .WithName("ListSlos").WithMetadata(viewer);

        api.MapGet(ApiRoutes.Notifications, async Task<Results<Ok<List<Delivery>>, ProblemHttpResult>> (string? status, int? limit, IDeliveryStore deliveries, CancellationToken ct) =>
            status is not null && !Enum.TryParse<DeliveryStatus>(status, ignoreCase: true, out _)
                ? ProblemResults.For(ProblemCodes.InvalidRequest, $"status '{status}' is not pending, delivered or dead")
                : TypedResults.Ok((await deliveries.DeliveriesAsync(status is null ? null : Enum.Parse<DeliveryStatus>(status, ignoreCase: true), Math.Clamp(limit ?? 100, 1, 1000), ct)).ToList()))
            .WithName("ListNotifications").WithMetadata(viewer);
    }

    private static long? IncidentId(string text) =>
        long.TryParse(text.StartsWith("INC-", StringComparison.OrdinalIgnoreCase) ? text[4..] : text, NumberStyles.None, CultureInfo.InvariantCulture, out var id) ? id : null;

    private static ProblemHttpResult UnknownIncident(string id) => ProblemResults.For(ProblemCodes.UnknownIncident, $"there is no incident '{id}'");

    /// <summary>Null when the caller may act on an incident in <paramref name="environment"/> as a deployer or an approver there.</summary>
    private static ProblemHttpResult? Responder(HttpContext http, string? environment) =>
        AccessControl.CallerOf(http) is { } caller && (caller.May(Role.Deployer, environment) || caller.May(Role.Approver, environment))
            ? null
            : AccessControl.Forbidden(AccessControl.CallerOf(http) is { } c
                ? $"{c.Name} may act on incidents only in {string.Join(", ", c.Environments)}, not in {environment}"
                : "not authenticated");
}
