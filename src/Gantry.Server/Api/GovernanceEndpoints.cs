using Gantry.Core.Access;
using Gantry.Core.Approvals;
using Gantry.Core.Checklists;
using Gantry.Core.Manifest.Values;
using Gantry.Core.Policies;
using Gantry.Core.Traffic;
using Gantry.Server.Access;
using Gantry.Server.Rollouts;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Gantry.Server.Api;

/// <summary>Governance around a rollout: approvals, pre-deployment checklists and declared freezes.</summary>
public static class GovernanceEndpoints
{
    public static void Map(RouteGroupBuilder api)
    {
        var viewer = new Requires(Role.Viewer);
        var approver = new Requires(Role.Approver);
        api.MapGet(ApiRoutes.Approvals, async (HttpContext http, ApprovalService approvals, CancellationToken ct) =>
            TypedResults.Ok((await approvals.AwaitingAsync(AccessControl.CallerOf(http), ct)).ToList())).WithName("ListAwaitingApproval").WithMetadata(viewer);

        api.MapGet(ApiRoutes.RolloutApproval, async Task<Results<Ok<ApprovalView>, ProblemHttpResult>> (string id, HttpContext http, ApprovalService approvals, CancellationToken ct) =>
            ApiEndpoints.Answer(await approvals.ApprovalAsync(id, AccessControl.CallerOf(http), ct))).WithName("GetRolloutApproval").WithMetadata(viewer);

        foreach (var (name, decision) in new[] { ("approve", ApprovalDecision.Approved), ("reject", ApprovalDecision.Rejected) })
        {
            api.MapPost(ApiRoutes.RolloutCommand.Replace("{command}", name, StringComparison.Ordinal), async Task<Results<Ok<ApprovalView>, ProblemHttpResult>> (string id, CommandRequest? request, HttpContext http, ApprovalService approvals, CancellationToken ct) =>
                ApiEndpoints.Answer(await approvals.DecideAsync(id, AccessControl.CallerOf(http)!, decision, request?.Reason, AccessControl.WhoOf(http), ct)))
                .WithName($"{ApiEndpoints.Capital(name)}Rollout").WithMetadata(approver);
        }

        api.MapGet(ApiRoutes.RolloutChecklist, async Task<Results<Ok<ChecklistRecord>, ProblemHttpResult>> (string id, ChecklistService checklists, CancellationToken ct) =>
            ApiEndpoints.Answer(await checklists.ChecklistAsync(id, ct))).WithName("GetRolloutChecklist").WithMetadata(viewer);

        api.MapPost(ApiRoutes.RolloutSignOff, async Task<Results<Ok<ChecklistRecord>, ProblemHttpResult>> (string id, string item, HttpContext http, IRolloutStore store, ChecklistService checklists, CancellationToken ct) =>
            await store.GetAsync(id, ct) is { } found && AccessControl.Check(http, Role.Approver, found.Environment) is { } denied
                ? denied
                : ApiEndpoints.Answer(await checklists.SignOffAsync(id, item, AccessControl.WhoOf(http), AccessControl.CallerOf(http), ct))).WithName("SignOffChecklistItem").WithMetadata(approver);

        api.MapPost(ApiRoutes.EnvironmentFreeze, async Task<Results<Ok<DeclaredFreeze>, ProblemHttpResult>> (string environment, FreezeRequest request, HttpContext http, FreezeService freezes, CancellationToken ct) =>
        {
            TimeSpan? duration = null;
            if (request.For is { } text)
            {
                if (DurationSyntax.TryParse(text, out var d) is { } error)
                {
                    return ProblemResults.For(ProblemCodes.InvalidRequest, $"'for': {error.Message}");
                }

                duration = d;
            }

            return AccessControl.Check(http, Role.Approver, environment) is { } denied
                ? denied
                : ApiEndpoints.Answer(await freezes.FreezeAsync(environment, request.Reason, duration, AccessControl.WhoOf(http), ct));
        }).WithName("FreezeEnvironment").WithMetadata(approver);

        api.MapPut(ApiRoutes.ServiceMaintenance, async Task<Results<Ok<Maintenance>, ProblemHttpResult>> (string service, MaintenanceRequest request, HttpContext http, GantryManifest manifest, MaintenanceService maintenance, CancellationToken ct) =>
            AccessControl.Check(http, Role.Deployer, ApiEndpoints.EnvironmentOr(manifest, request.Environment)) is { } denied
                ? denied
                : ApiEndpoints.Answer(await maintenance.OnAsync(service, request, AccessControl.WhoOf(http), ct))).WithName("MaintenanceOn").WithMetadata(new Requires(Role.Deployer));

        api.MapDelete(ApiRoutes.ServiceMaintenance, async Task<Results<Ok<Maintenance>, ProblemHttpResult>> (string service, string? environment, HttpContext http, GantryManifest manifest, MaintenanceService maintenance, CancellationToken ct) =>
            AccessControl.Check(http, Role.Deployer, ApiEndpoints.EnvironmentOr(manifest, environment)) is { } denied
                ? denied
                : ApiEndpoints.Answer(await maintenance.OffAsync(service, environment, AccessControl.WhoOf(http), ct))).WithName("MaintenanceOff").WithMetadata(new Requires(Role.Deployer));

        api.MapPut(ApiRoutes.ServicePause, async Task<Results<Ok<TrafficPause>, ProblemHttpResult>> (string service, PauseRequest request, HttpContext http, GantryManifest manifest, MaintenanceService switches, CancellationToken ct) =>
            AccessControl.Check(http, Role.Deployer, ApiEndpoints.EnvironmentOr(manifest, request.Environment)) is { } denied
                ? denied
                : ApiEndpoints.Answer(await switches.PauseAsync(service, request, AccessControl.WhoOf(http), ct))).WithName("PauseTraffic").WithMetadata(new Requires(Role.Deployer));

        api.MapDelete(ApiRoutes.ServicePause, async Task<Results<Ok<TrafficPause>, ProblemHttpResult>> (string service, string? environment, HttpContext http, GantryManifest manifest, MaintenanceService switches, CancellationToken ct) =>
            AccessControl.Check(http, Role.Deployer, ApiEndpoints.EnvironmentOr(manifest, environment)) is { } denied
                ? denied
                : ApiEndpoints.Answer(await switches.ResumeAsync(service, environment, AccessControl.WhoOf(http), ct))).WithName("ResumeTraffic").WithMetadata(new Requires(Role.Deployer));

        api.MapDelete(ApiRoutes.EnvironmentFreeze, async Task<Results<Ok<IReadOnlyList<DeclaredFreeze>>, ProblemHttpResult>> (string environment, HttpContext http, FreezeService freezes, CancellationToken ct) =>
            AccessControl.Check(http, Role.Approver, environment) is { } denied
                ? denied
                : ApiEndpoints.Answer(await freezes.UnfreezeAsync(environment, AccessControl.WhoOf(http), ct))).WithName("UnfreezeEnvironment").WithMetadata(approver);
    }
}
