using System.Globalization;
using Gantry.Core.Access;
using Gantry.Core.Analysis;
using Gantry.Core.Strategies;
using Gantry.Server.Access;
using Gantry.Server.Rollouts;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Gantry.Server.Api;

/// <summary>Rollouts: deploys (and the queue), reading them, their commands, by rollout or by service, and rollbacks.</summary>
public static class RolloutEndpoints
{
    private static readonly Dictionary<string, CommandKind> Commands = new(StringComparer.Ordinal)
    {
        ["promote"] = CommandKind.Promote, ["abort"] = CommandKind.Abort, ["pause"] = CommandKind.Pause, ["resume"] = CommandKind.Resume, ["retry"] = CommandKind.Retry,
    };

    public static void Map(RouteGroupBuilder api)
    {
        var viewer = new Requires(Role.Viewer);
        var deployer = new Requires(Role.Deployer);
        api.MapGet(ApiRoutes.Rollouts, async (string? service, string? environment, bool? active, int? limit, IRolloutStore store, CancellationToken ct) =>
            TypedResults.Ok((await store.ListAsync(new RolloutQuery(service, environment, active ?? false, Math.Clamp(limit ?? 50, 1, 1000)), ct)).Select(r => r.Redacted()).ToList()))
            .WithName("ListRollouts").WithMetadata(viewer);

        api.MapPost(ApiRoutes.Rollouts, async Task<Results<Created<RolloutView>, Accepted<QueuedDeploy>, ProblemHttpResult>> (DeployRequest request, HttpContext http, GantryManifest manifest, DeployService deploys, RolloutViews views, CancellationToken ct) =>
        {
            // An emergency deploy needs the emergency role there; any other, the deployer role.
            if (AccessControl.Check(http, request.Emergency ? Role.Emergency : Role.Deployer, ApiEndpoints.EnvironmentOr(manifest, request.Environment)) is { } denied)
            {
                return denied;
            }

            var result = await deploys.DeployAsync(request, AccessControl.WhoOf(http), ct, AccessControl.CallerOf(http));
            if (result.Problem?.Code == ProblemCodes.RolloutInProgress.Code && request.Queue)
            {
                var queued = await deploys.QueueAsync(request, AccessControl.WhoOf(http), ct);
                return queued.Problem is { } q ? ProblemResults.For(q) : TypedResults.Accepted(ApiRoutes.Base + ApiRoutes.Queue, queued.Value! with { Release = queued.Value.Release.Redacted() });
            }

            return result.Problem is { } p ? ProblemResults.For(p) : TypedResults.Created(ApiRoutes.Fill(ApiRoutes.Rollout, [result.Value!.Id]), views.View(result.Value));
        }).WithName("CreateRollout").WithMetadata(new Requires(Role.Deployer, Role.Emergency));

        api.MapGet(ApiRoutes.Queue, async (string? service, string? environment, IReleaseStore store, CancellationToken ct) =>
            TypedResults.Ok((await store.QueuedAsync(service, environment, ct)).Select(q => q with { Release = q.Release.Redacted() }).ToList())).WithName("ListQueue").WithMetadata(viewer);

        api.MapDelete(ApiRoutes.QueueEntry, async Task<Results<Ok<QueuedDeploy>, ProblemHttpResult>> (string id, string? reason, HttpContext http, DeployService deploys, CancellationToken ct) =>
        {
            var found = long.TryParse(id.TrimStart('#'), NumberStyles.None, CultureInfo.InvariantCulture, out var number)
                ? await deploys.QueuedAsync(number, ct)
                : ProblemCodes.NotQueued.With($"'{id}' is not a queued deploy's number");
            if (found.Value is not { } queued)
            {
                return ProblemResults.For(found.Problem!);
            }

            if (AccessControl.Check(http, Role.Deployer, queued.Environment) is { } denied)
            {
                return denied;
            }

            var result = await deploys.CancelQueuedAsync(number, reason, AccessControl.WhoOf(http), ct);
            return result.Problem is { } p ? ProblemResults.For(p) : TypedResults.Ok(result.Value!);
        }).WithName("CancelQueuedDeploy").WithMetadata(deployer);

        api.MapGet(ApiRoutes.Rollout, async Task<Results<Ok<RolloutView>, ProblemHttpResult>> (string id, IRolloutStore store, RolloutViews views, CancellationToken ct) =>
            await store.GetAsync(id, ct) is { } state ? TypedResults.Ok(views.View(state)) : UnknownRollout(id))
            .WithName("GetRollout").WithMetadata(viewer);

        api.MapGet(ApiRoutes.RolloutAnalysis, async Task<Results<Ok<List<AnalysisRunRecord>>, ProblemHttpResult>> (string id, IRolloutStore store, IAnalysisStore analysis, CancellationToken ct) =>
            await store.GetAsync(id, ct) is null ? UnknownRollout(id) : TypedResults.Ok((await analysis.AnalysisAsync(id, ct)).ToList()))
            .WithName("GetRolloutAnalysis").WithMetadata(viewer);

        // A page of a rollout's events, oldest first: up to `limit` (10,000 at most) after the event whose id is `after`.
        api.MapGet(ApiRoutes.RolloutEvents, async (string id, long? after, int? limit, IRolloutStore store, CancellationToken ct) =>
            TypedResults.Ok((await store.EventsAsync(Math.Max(0, after ?? 0), id, Math.Clamp(limit ?? 10_000, 1, 10_000), ct)).ToList())).WithName("GetRolloutEvents").WithMetadata(viewer);

        foreach (var (name, kind) in Commands)
        {
            api.MapPost(ApiRoutes.RolloutCommand.Replace("{command}", name, StringComparison.Ordinal), async Task<Results<Ok<RolloutView>, ProblemHttpResult>> (string id, CommandRequest? request, HttpContext http, IRolloutStore store, CommandService commands, RolloutViews views, CancellationToken ct) =>
                await store.GetAsync(id, ct) is { } found && AccessControl.Check(http, Role.Deployer, found.Environment) is { } denied
                    ? denied
                    : View(await commands.CommandAsync(id, kind, request ?? new CommandRequest(), AccessControl.WhoOf(http), ct), views)).WithName($"{ApiEndpoints.Capital(name)}Rollout").WithMetadata(deployer);

            // The same, addressed by service (and environment): the service's newest rollout.
            api.MapPost(ApiRoutes.ServiceCommand.Replace("{command}", name, StringComparison.Ordinal), async Task<Results<Ok<RolloutView>, ProblemHttpResult>> (string service, string? environment, CommandRequest? request, HttpContext http, GantryManifest manifest, CommandService commands, RolloutViews views, CancellationToken ct) =>
            {
                if (AccessControl.Check(http, Role.Deployer, ApiEndpoints.EnvironmentOr(manifest, environment)) is { } denied)
                {
                    return denied;
                }

                var latest = await commands.LatestAsync(service, environment, ct);
                return latest.Problem is { } p ? ProblemResults.For(p) : View(await commands.CommandAsync(latest.Value!.Id, kind, request ?? new CommandRequest(), AccessControl.WhoOf(http), ct), views);
            }).WithName($"{ApiEndpoints.Capital(name)}Service").WithMetadata(deployer);
        }

        api.MapGet(ApiRoutes.ServiceRollout, async Task<Results<Ok<RolloutView>, ProblemHttpResult>> (string service, string? environment, CommandService commands, RolloutViews views, CancellationToken ct) =>
            View(await commands.LatestAsync(service, environment, ct), views)).WithName("GetServiceRollout").WithMetadata(viewer);

        api.MapPost(ApiRoutes.ServiceRollback, async Task<Results<Created<RolloutView>, ProblemHttpResult>> (string service, RollbackRequest? request, HttpContext http, GantryManifest manifest, CommandService commands, RolloutViews views, CancellationToken ct) =>
        {
            request ??= new RollbackRequest();
            if (AccessControl.Check(http, Role.Deployer, ApiEndpoints.EnvironmentOr(manifest, request.Environment)) is { } denied)
            {
                return denied;
            }

            var result = await commands.RollbackAsync(service, request, AccessControl.WhoOf(http), ct);
            return result.Problem is { } p ? ProblemResults.For(p) : TypedResults.Created(ApiRoutes.Fill(ApiRoutes.Rollout, [result.Value!.Id]), views.View(result.Value));
        }).WithName("RollbackService").WithMetadata(deployer);
    }

    private static ProblemHttpResult UnknownRollout(string id) => ProblemResults.For(ProblemCodes.UnknownRollout, $"there is no rollout '{id}'");

    private static Results<Ok<RolloutView>, ProblemHttpResult> View(Result<RolloutState> result, RolloutViews views) =>
        result.Problem is { } p ? ProblemResults.For(p) : TypedResults.Ok(views.View(result.Value!));
}
