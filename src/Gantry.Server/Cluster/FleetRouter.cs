using System.Text.Json;
using Gantry.Core;
using Gantry.Core.Cluster;
using Gantry.Core.Traffic;

namespace Gantry.Server.Cluster;

/// <summary>
/// The leader's router among replicas that each have their own (one per machine): a table is published in the store
/// before this machine's router gets it, so that every replica's <see cref="RouterFeed"/> gives it to its own router,
/// and a split counts as in force only once every live replica reported that its router has it (set, then verify,
/// on every router). Alone, or before this replica leads, it is this machine's router and nothing more.
/// </summary>
public sealed class FleetRouter(ITrafficRouter local, IFleetStore fleet, Leadership leadership, TimeProvider time) : ITrafficRouter
{
    /// <summary>How recently a replica must have reported to be waited for: a replica silent longer is taken as gone.</summary>
    public static readonly TimeSpan Liveness = TimeSpan.FromSeconds(3);

    private volatile Published? published;

    public string Name => local.Name;

    public RouterCapabilities Capabilities => local.Capabilities;

    /// <summary>The routes as the store and the router's admin API carry them.</summary>
    private static string Serialize(ValueList<TrafficRoute> routes) => JsonSerializer.Serialize(routes, GantryJson.Options);

    public static ValueList<TrafficRoute> Deserialize(string routes) => JsonSerializer.Deserialize<ValueList<TrafficRoute>>(routes, GantryJson.Options);

    public async Task<TrafficApplyResult> ApplyAsync(ValueList<TrafficRoute> routes, CancellationToken ct)
    {
        if (leadership.Fence is { } fence)
        {
            if (await fleet.PublishTableAsync(Serialize(routes), fence, time.GetUtcNow(), ct) is not { } version)
            {
                return new TrafficApplyResult(false, "this replica no longer leads: the table was not published");
            }

            published = new Published(routes, version);
            if (local is IPublishedTables ordered)
            {
                return await ordered.ApplyPublishedAsync(routes, version, follows: false, ct);
            }
        }

        return await local.ApplyAsync(routes, ct);
    }

    public async ValueTask<ValueList<TrafficRoute>> InForceAsync(CancellationToken ct)
    {
        var inForce = await local.InForceAsync(ct);
        if (!leadership.Clustered || published is not { } table || inForce != table.Routes)
        {
            return inForce;
        }

        // Unknown is not verified: until every live replica's router has the table, no split of it is in force.
        var now = time.GetUtcNow();
        var lagging = (await fleet.ReplicasAsync(ct)).Any(r => r.Name != leadership.Replica && r.Alive(now, Liveness) && r.TableVersion < table.Version);
        return lagging ? [] : inForce;
    }

    private sealed record Published(ValueList<TrafficRoute> Routes, long Version);
}
