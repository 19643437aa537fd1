using Gantry.Core.Access;
using Gantry.Core.Runtime;
using Gantry.Server.Access;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Gantry.Server.Api;

/// <summary>Services and releases: what the manifest declares, what runs where, the releases deployed, instances and their logs.</summary>
public static class ServiceEndpoints
{
    public static void Map(RouteGroupBuilder api)
    {
        var viewer = new Requires(Role.Viewer);
        api.MapGet(ApiRoutes.Services, async (GantryManifest manifest, IRolloutStore store, Core.Traffic.IMaintenanceStore switches, Rollouts.RolloutViews views, CancellationToken ct) =>
        {
            var latest = await store.LatestPerTargetAsync(ct);
            var splits = views.Traffic(latest);
            var byTarget = latest.GroupBy(r => (r.Service, r.Environment)).ToDictionary(g => g.Key, g => g.First());
            var traffic = await Core.Traffic.TrafficSwitches.ReadAsync(switches, ct);
            var environments = manifest.Environments.IsEmpty ? [EffectiveService.DefaultEnvironment] : manifest.Environments.Select(e => e.Name).ToList();
            return TypedResults.Ok(manifest.Services.Select(s => new ServiceView(
                s.Name,
                StrategyName(s.Strategy),
                s.Replicas,
                s.Listen.ToString(),
                [.. environments.Select(e => byTarget.GetValueOrDefault((s.Name, e)) is { } r
                    ? new EnvironmentView(e, r.StableVersion, r.Id, r.Phase.ToString(), traffic.MessageFor(s.Name, e), traffic.PauseFor(s.Name, e), r.Message, splits[r.Id])
                    : new EnvironmentView(e, null, null, null, traffic.MessageFor(s.Name, e), traffic.PauseFor(s.Name, e)))])).ToList());
        }).WithName("ListServices").WithMetadata(viewer);

        api.MapGet(ApiRoutes.ServiceReleases, async Task<Results<Ok<List<StoredRelease>>, ProblemHttpResult>> (string service, GantryManifest manifest, IReleaseStore store, CancellationToken ct) =>
            manifest.FindService(service) is null
                ? ProblemResults.For(ProblemCodes.UnknownService, $"there is no service '{service}' in the manifest")
                : TypedResults.Ok((await store.ReleasesAsync(service, ct)).Select(r => r with { Release = r.Release.Redacted() }).ToList())).WithName("ListReleases").WithMetadata(viewer);

        api.MapGet(ApiRoutes.Instances, async (string? service, string? environment, IRolloutStore store, CancellationToken ct) =>
            TypedResults.Ok(await store.InstancesAsync(service, environment, ct))).WithName("ListInstances").WithMetadata(viewer);

        api.MapGet(ApiRoutes.ServiceLogs, async (string service, string? environment, string? version, int? lines, GantryManifest manifest, IRuntime runtime, CancellationToken ct) =>
        {
            var target = new TargetId(service, ApiEndpoints.EnvironmentOr(manifest, environment));
            var instances = runtime.Observe().Where(i => i.SetId.BelongsTo(target) && (version is null || i.Version == version)).ToList();
            var take = Math.Clamp(lines ?? 100, 1, 1000);
            var logs = await Task.WhenAll(instances.Select(async i => new InstanceLogs(i.Id, i.Version, [.. (await runtime.LogsAsync(i.Id, ct)).TakeLast(take)])));
            return TypedResults.Ok(logs.ToList());
        }).WithName("GetLogs").WithMetadata(viewer);
    }

    private static string StrategyName(StrategySpec strategy) => strategy switch
    {
        CanaryStrategy => "canary",
        BlueGreenStrategy => "blueGreen",
        _ => "rolling",
    };
}
