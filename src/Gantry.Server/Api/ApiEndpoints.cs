using System.Globalization;
using System.Text.Json;
using System.Text;
using Gantry.Core.Access;
using Gantry.Core.Manifest;
using Gantry.Core.Rollouts;
using Gantry.Core.Runtime;
using Gantry.Core.Strategies;
using Gantry.Server.Access;
using Gantry.Server.Reconciler;
using Gantry.Server.Rollouts;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Gantry.Server.Api;

/// <summary>A service as the API shows it: its shape and, per environment, what runs.</summary>
public sealed record ServiceView(string Name, string Strategy, int Replicas, string Listen, IReadOnlyList<EnvironmentView> Environments);

public sealed record EnvironmentView(string Name, string? Stable, string? LatestRollout, string? Phase);

/// <summary>The REST API under <c>/api/v1</c>: services, releases, rollouts and their commands, the event stream. Errors are problem+json.</summary>
public static partial class ApiEndpoints
{
    public static void Map(IEndpointRouteBuilder app, RolloutService rollouts, IRolloutStore store, IRuntime runtime, RolloutReconciler reconciler, Gates.GateService gates, Core.Gates.IGateStore gateStore, Core.Audit.IAuditStore audit, TokenService tokens, Incidents.IncidentService incidents, Core.Incidents.IIncidentStore incidentStore, Core.Dora.IDoraStore dora, Core.Notifications.IDeliveryStore deliveries, TimeProvider time)
    {
        var api = app.MapGroup("/api/v1");
        var viewer = new Requires(Role.Viewer);
        var deployer = new Requires(Role.Deployer);
        var approver = new Requires(Role.Approver);
        var admin = new Requires(Role.Admin);
        MapIncidents(api, store, incidents, incidentStore, dora, deliveries, time);
        MapGovernance(api, rollouts, gates, gateStore, audit, tokens);

        api.MapGet("/services", async (CancellationToken ct) =>
        {
            var latest = await store.LatestPerTargetAsync(ct);
            var manifest = rollouts.Manifest;
            var environments = manifest.Environments.IsEmpty ? [EffectiveService.DefaultEnvironment] : manifest.Environments.Select(e => e.Name).ToList();
            return Results.Ok(manifest.Services.Select(s => new ServiceView(
                s.Name,
                StrategyName(s.Strategy),
                s.Replicas,
                s.Listen.ToString(),
                [.. environments.Select(e => latest.FirstOrDefault(r => r.Service == s.Name && r.Environment == e) is { } r
                    ? new EnvironmentView(e, r.StableVersion, r.Id, r.Phase.ToString())
                    : new EnvironmentView(e, null, null, null))])).ToList());
        }).WithName("ListServices").WithMetadata(viewer);

        api.MapGet("/services/{service}/releases", async (string service, CancellationToken ct) =>
            rollouts.Manifest.FindService(service) is null
                ? Problem(new Problem(404, "Unknown service", $"there is no service '{service}' in the manifest"))
                : Results.Ok((await store.ReleasesAsync(service, ct)).Select(r => r with { Release = r.Release.Redacted() }))).WithName("ListReleases").WithMetadata(viewer);

        api.MapGet("/rollouts", async (string? service, string? environment, bool? active, int? limit, CancellationToken ct) =>
            Results.Ok((await store.ListAsync(new RolloutQuery(service, environment, active ?? false, Math.Clamp(limit ?? 50, 1, 1000)), ct)).Select(r => r.Redacted())))
            .WithName("ListRollouts").WithMetadata(viewer);

        api.MapPost("/rollouts", async (DeployRequest request, HttpContext http, CancellationToken ct) =>
        {
            // An emergency deploy needs the emergency role there; any other, the deployer role.
            var environment = request.Environment ?? EffectiveService.DefaultEnvironmentOf(rollouts.Manifest);
            if (AccessControl.Check(http, request.Emergency ? Role.Emergency : Role.Deployer, environment) is { } denied)
            {
                return denied;
            }

            var result = await rollouts.DeployAsync(request, AccessControl.WhoOf(http), ct);
            if (result.Problem is { Code: RolloutService.BusyCode } && request.Queue)
            {
                var queued = await rollouts.QueueAsync(request, AccessControl.WhoOf(http), ct);
                return queued.Problem is { } q ? Problem(q) : Results.Accepted("/api/v1/queue", queued.Value! with { Release = queued.Value.Release.Redacted() });
            }

            return result.Problem is { } p ? Problem(p) : Results.Created($"/api/v1/rollouts/{result.Value!.Id}", rollouts.View(result.Value));
        }).WithName("CreateRollout").WithMetadata(new Requires(Role.Deployer, Role.Emergency));

        api.MapGet("/instances", async (string? service, string? environment, CancellationToken ct) =>
            Results.Ok(await store.InstancesAsync(service, environment, ct))).WithName("ListInstances").WithMetadata(viewer);

        api.MapGet("/queue", async (string? service, string? environment, CancellationToken ct) =>
            Results.Ok((await store.QueuedAsync(service, environment, ct)).Select(q => q with { Release = q.Release.Redacted() }))).WithName("ListQueue").WithMetadata(viewer);

        api.MapDelete("/queue/{id}", async (string id, string? reason, HttpContext http, CancellationToken ct) =>
        {
            var found = long.TryParse(id.TrimStart('#'), NumberStyles.None, CultureInfo.InvariantCulture, out var number)
                ? await rollouts.QueuedAsync(number, ct)
                : new Problem(404, "Not queued", $"'{id}' is not a queued deploy's number");
            if (found.Value is not { } queued)
            {
                return Problem(found.Problem!);
            }

            if (AccessControl.Check(http, Role.Deployer, queued.Environment) is { } denied)
            {
                return denied;
            }

            var result = await rollouts.CancelQueuedAsync(number, reason, AccessControl.WhoOf(http), ct);
            return result.Problem is { } p ? Problem(p) : Results.Ok(result.Value);
        }).WithName("CancelQueuedDeploy").WithMetadata(deployer);

        api.MapGet("/rollouts/{id}", async (string id, CancellationToken ct) =>
            await store.GetAsync(id, ct) is { } state ? Results.Ok(rollouts.View(state)) : Problem(new Problem(404, "Unknown rollout", $"there is no rollout '{id}'")))
            .WithName("GetRollout").WithMetadata(viewer);

        api.MapGet("/rollouts/{id}/analysis", async (string id, CancellationToken ct) =>
            await store.GetAsync(id, ct) is null
                ? Problem(new Problem(404, "Unknown rollout", $"there is no rollout '{id}'"))
                : Results.Ok(await store.AnalysisAsync(id, ct))).WithName("GetRolloutAnalysis").WithMetadata(viewer);

        api.MapGet("/rollouts/{id}/checklist", async (string id, CancellationToken ct) =>
        {
            var result = await rollouts.ChecklistAsync(id, ct);
            return result.Problem is { } p ? Problem(p) : Results.Ok(result.Value);
        }).WithName("GetRolloutChecklist").WithMetadata(viewer);

        api.MapPost("/rollouts/{id}/checklist/{item}/signoff", async (string id, string item, HttpContext http, CancellationToken ct) =>
        {
            if (await ScopeOfRolloutAsync(http, store, id, Role.Approver, ct) is { } denied)
            {
                return denied;
            }

            var result = await rollouts.SignOffAsync(id, item, AccessControl.WhoOf(http), ct, AccessControl.CallerOf(http));
            return result.Problem is { } p ? Problem(p) : Results.Ok(result.Value);
        }).WithName("SignOffChecklistItem").WithMetadata(approver);

        api.MapGet("/rollouts/{id}/events", async (string id, CancellationToken ct) =>
            Results.Ok(await store.EventsAsync(0, id, 10_000, ct))).WithName("GetRolloutEvents").WithMetadata(viewer);

        foreach (var (name, kind) in Commands)
        {
            api.MapPost($"/rollouts/{{id}}/{name}", async (string id, HttpContext http, CancellationToken ct) =>
                await ScopeOfRolloutAsync(http, store, id, Role.Deployer, ct) is { } denied
                    ? denied
                    : Answer(await rollouts.CommandAsync(id, kind, await Body(http, ct), AccessControl.WhoOf(http), ct), rollouts)).WithName($"{Capital(name)}Rollout").WithMetadata(deployer);

            // The same, addressed by service (and environment): the service's newest rollout.
            api.MapPost($"/services/{{service}}/{name}", async (string service, string? environment, HttpContext http, CancellationToken ct) =>
            {
                if (AccessControl.Check(http, Role.Deployer, environment ?? EffectiveService.DefaultEnvironmentOf(rollouts.Manifest)) is { } denied)
                {
                    return denied;
                }

                var latest = await rollouts.LatestAsync(service, environment, ct);
                return latest.Problem is { } p ? Problem(p) : Answer(await rollouts.CommandAsync(latest.Value!.Id, kind, await Body(http, ct), AccessControl.WhoOf(http), ct), rollouts);
            }).WithName($"{Capital(name)}Service").WithMetadata(deployer);
        }

        api.MapGet("/services/{service}/rollout", async (string service, string? environment, CancellationToken ct) =>
        {
            var latest = await rollouts.LatestAsync(service, environment, ct);
            return latest.Problem is { } p ? Problem(p) : Results.Ok(rollouts.View(latest.Value!));
        }).WithName("GetServiceRollout").WithMetadata(viewer);

        api.MapPost("/services/{service}/rollback", async (string service, HttpContext http, CancellationToken ct) =>
        {
            var request = http.Request.HasJsonContentType() ? await http.Request.ReadFromJsonAsync<RollbackRequest>(ct) ?? new RollbackRequest() : new RollbackRequest();
            if (AccessControl.Check(http, Role.Deployer, request.Environment ?? EffectiveService.DefaultEnvironmentOf(rollouts.Manifest)) is { } denied)
            {
                return denied;
            }

            var result = await rollouts.RollbackAsync(service, request, AccessControl.WhoOf(http), ct);
            return result.Problem is { } p ? Problem(p) : Results.Created($"/api/v1/rollouts/{result.Value!.Id}", rollouts.View(result.Value));
        }).WithName("RollbackService").WithMetadata(deployer);

        api.MapGet("/services/{service}/logs", (string service, string? environment, string? version, int? lines) =>
        {
            var environmentName = environment ?? EffectiveService.DefaultEnvironmentOf(rollouts.Manifest);
            var instances = runtime.Observe().Where(i => i.SetId.BelongsTo(new TargetId(service, environmentName)) && (version is null || i.Version == version)).ToList();
            var take = Math.Clamp(lines ?? 100, 1, 1000);
            return Results.Ok(instances.Select(i => new InstanceLogs(i.Id, i.Version, [.. runtime.Logs(i.Id).TakeLast(take)])).ToList());
        }).WithName("GetLogs").WithMetadata(viewer);

        api.MapGet("/events", (string? rollout, long? after, HttpContext http, CancellationToken ct) => StreamAsync(http, store, reconciler, time, rollout, after, ct))
            .WithName("StreamEvents").WithMetadata(viewer);
    }

    private static readonly (string Name, CommandKind Kind)[] Commands =
    [
        ("promote", CommandKind.Promote), ("abort", CommandKind.Abort), ("pause", CommandKind.Pause),
        ("resume", CommandKind.Resume), ("retry", CommandKind.Retry),
    ];

    private static long? IncidentId(string text) =>
        long.TryParse(text.StartsWith("INC-", StringComparison.OrdinalIgnoreCase) ? text[4..] : text, NumberStyles.None, CultureInfo.InvariantCulture, out var id) ? id : null;

    private static Problem UnknownIncident(string id) => new(404, "Unknown incident", $"there is no incident '{id}'");

    private static IResult Answer<T>(Result<T> result) => result.Problem is { } p ? Problem(p) : Results.Ok(result.Value);

    private static string Capital(string s) => char.ToUpperInvariant(s[0]) + s[1..];

    private static IResult Answer(Result<RolloutState> result, RolloutService rollouts) =>
        result.Problem is { } p ? Problem(p) : Results.Ok(rollouts.View(result.Value!));

    private static async Task<CommandRequest> Body(HttpContext http, CancellationToken ct) =>
        http.Request.HasJsonContentType() ? await http.Request.ReadFromJsonAsync<CommandRequest>(ct) ?? new CommandRequest() : new CommandRequest();

    public static IResult Problem(Problem p) => Results.Problem(detail: p.Detail, statusCode: p.Status, title: p.Title,
        extensions: p.Code is null ? null : new Dictionary<string, object?>(StringComparer.Ordinal) { ["code"] = p.Code });

    /// <summary>The caller's right to act on a rollout, in the rollout's environment (an unknown rollout is left to the handler's 404).</summary>
    private static async Task<IResult?> ScopeOfRolloutAsync(HttpContext http, IRolloutStore store, string id, Role role, CancellationToken ct) =>
        await store.GetAsync(id, ct) is { } state ? AccessControl.Check(http, role, state.Environment) : null;

    private static string StrategyName(StrategySpec strategy) => strategy switch
    {
        CanaryStrategy => "canary",
        BlueGreenStrategy => "blueGreen",
        _ => "rolling",
    };

    /// <summary>Server-sent events: every stored event after <c>after</c> (or Last-Event-ID), then new ones as they are committed.</summary>
    private static async Task StreamAsync(HttpContext http, IRolloutStore store, RolloutReconciler reconciler, TimeProvider time, string? rollout, long? after, CancellationToken ct)
    {
        var last = after ?? (long.TryParse(http.Request.Headers["Last-Event-ID"], NumberStyles.None, CultureInfo.InvariantCulture, out var id) ? id : 0);
        http.Response.ContentType = "text/event-stream";
        http.Response.Headers.CacheControl = "no-cache";
        await http.Response.Body.FlushAsync(ct);
        var idle = 0;
        try
        {
            while (!ct.IsCancellationRequested)
            {
                var events = await store.EventsAsync(last, rollout, 500, ct);
                foreach (var e in events)
                {
                    var data = JsonSerializer.Serialize(e, GantryJson.Options);
                    await http.Response.WriteAsync(string.Create(CultureInfo.InvariantCulture, $"id: {e.Id}\nevent: {e.Type}\ndata: {data}\n\n"), Encoding.UTF8, ct);
                    last = e.Id;
                }

                if (events.Count > 0)
                {
                    await http.Response.Body.FlushAsync(ct);
                    idle = 0;
                    continue;
                }

                await reconciler.Committed.WaitAsync(TimeSpan.FromSeconds(1), time, ct);
                if (++idle >= 15)
                {
                    await http.Response.WriteAsync(":keep-alive\n\n", ct);
                    await http.Response.Body.FlushAsync(ct);
                    idle = 0;
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // The client went away.
        }
    }
}

public sealed record InstanceLogs(string Instance, string Version, IReadOnlyList<string> Lines);
