using System.Collections.Concurrent;
using Gantry.Core;
using Gantry.Core.Runtime;
using Gantry.Core.Traffic;
using Microsoft.Extensions.Logging;

namespace Gantry.Server.Reconciler;

/// <summary>The reconciler's hands on the data plane: instance records, the runtime's sets, the router's routes read back.</summary>
public sealed partial class RolloutReconciler
{
    /// <summary>Keeps the store's instance records in step with what is observed (written only when something changed).</summary>
    private async Task RecordInstancesAsync(RolloutState state, List<InstanceStatus> instances, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var records = instances.Select(i => new InstanceRecord(i.Id, state.Service, state.Environment, i.Version, i.Address, i.ProcessId, i.Phase.ToString(), i.Restarts, i.LastError, now) { SetKey = i.SetKey, Index = i.Index }).ToList();
        var key = state.Target;
        if (recorded.TryGetValue(key, out var last) && last.Select(r => r with { ObservedAt = default }).SequenceEqual(records.Select(r => r with { ObservedAt = default })))
        {
            return;
        }

        await store.SaveInstancesAsync(state.Service, state.Environment, records, ct);
        recorded[key] = records;
    }

    /// <summary>
    /// Makes the runtime run exactly the rollout's sets for this service and environment. A stop is not waited for,
    /// since an instance may take its whole stop timeout to go: sets no longer wanted are stopped in the background
    /// and the pass goes on meanwhile (a runtime's scale-down does not wait for the instances it takes away either).
    /// When a stop ends, the target is visited again; a set wanted again while it stops is ensured then.
    /// </summary>
    private async Task EnsureInstancesAsync(ServiceSpec spec, RolloutState state, CancellationToken ct)
    {
        foreach (var set in state.Sets)
        {
            var setId = state.Target.Set(set.Key);
            if (stops.ContainsKey(setId))
            {
                // Wanted again while it stops (a quick rollback): one change to a set at a time. The visit after the
                // stop ends (the target is visited again then) ensures the set; the pass does not wait.
                continue;
            }

            var variables = set.Release.Variables.ToDictionary(v => v.Key, v => v.Value, StringComparer.Ordinal);
            var setSpec = new InstanceSetSpec(spec, state.Environment, set.Version, set.Replicas, manifestContext.Folder, variables, set.Name) { Secrets = set.Release.Secret.ToHashSet(StringComparer.Ordinal) };
            await runtime.EnsureAsync(setSpec, ct);
        }

        var wanted = state.Sets.Select(s => state.Target.Set(s.Key)).ToHashSet();
        foreach (var setId in runtime.Observe(state.Target).Select(i => i.SetId).Where(id => !wanted.Contains(id)).Distinct().ToList())
        {
            _ = stops.GetOrAdd(setId, StopInBackgroundAsync);
        }
    }

    /// <summary>Sets being stopped, each until its instances have gone.</summary>
    private readonly ConcurrentDictionary<InstanceSetId, Task> stops = new();

    /// <summary>Targets to visit on the next pass whatever they look like: a stop of theirs has ended.</summary>
    private readonly ConcurrentDictionary<TargetId, bool> revisit = new();

    /// <summary>Stops a set outside the pass; registered in <see cref="stops"/> until it ends, then its target is visited again.</summary>
    private async Task StopInBackgroundAsync(InstanceSetId setId)
    {
        // Registered before it runs, so that the next pass does not start the same stop again.
        await Task.Yield();
        try
        {
            await runtime.StopAsync(setId, CancellationToken.None);
        }
        catch (ObjectDisposedException)
        {
            // The runtime went first (the server is stopping): its disposal stops the set.
        }
        catch (Exception ex)
        {
            LogStopFailed(logger, setId.ToString(), ex);
        }
        finally
        {
            stops.TryRemove(setId, out _);
            revisit[setId.Target] = true;
            signals.Wake.Pulse();
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "stopping the instances of {Set} failed")]
    private static partial void LogStopFailed(ILogger logger, string set, Exception ex);

    private static readonly TimeSpan MaxRefusalBackOff = TimeSpan.FromSeconds(10);
    private ValueList<TrafficRoute>? refused;
    private int refusals;
    private long retryAt;
    private long tables;

    /// <summary>Tables sent to the router (a refused one again only after a back-off).</summary>
    public long Tables => Interlocked.Read(ref tables);

    private async Task ApplyRoutingAsync(IReadOnlyList<Target> current, CancellationToken ct)
    {
        var switches = dataPlane.Maintenance is { } store ? await TrafficSwitches.ReadAsync(store, ct) : TrafficSwitches.None;
        var routes = RoutingPlanner.Plan(current, runtime.Observe(), switches, manifestContext.Folder);
        var byName = routes.ToDictionary(r => r.Name, StringComparer.Ordinal);
        planned = [.. current.Select(t => (t.State.Target, t.State.Traffic, byName.GetValueOrDefault(t.Route)))];
        // A table the router refused is sent again only after a back-off (1 s, 2 s, 4 s ... 10 s), not on every tick;
        // another table (something changed) goes at once.
        if (routes != applied && (refused is not { } lastRefused || routes != lastRefused || time.GetTimestamp() >= retryAt))
        {
            Interlocked.Increment(ref tables);
            var result = await router.ApplyAsync(routes, ct);
            refused = result.Applied ? null : routes;
            refusals = result.Applied ? 0 : refusals + 1;
            retryAt = time.GetTimestamp() + (long)(Math.Min(MaxRefusalBackOff.TotalSeconds, Math.Pow(2, Math.Max(0, refusals - 1))) * time.TimestampFrequency);
            if (result.Applied)
            {
                if (logger.IsEnabled(LogLevel.Information))
                {
                    // The routes that changed, not the whole table: with a thousand services it would be most of the log.
                    var before = applied.ToHashSet();
                    var text = string.Join("; ", routes.Where(r => !before.Contains(r)).Select(r => $"{r.Name} " + string.Join(", ", r.Backends.Select(b => $"{b.Name} {b.Weight}% on {b.Instances.Count}"))));
                    LogApplied(logger, text.Length == 0 ? "routes removed" : text);
                }

                applied = routes;
            }

            if (result.Error != RouterError)
            {
                RouterError = result.Error;
                if (result.Error is not null)
                {
                    LogRouterError(logger, result.Error);
                }
            }
        }

        if (await VerifyAsync(ct))
        {
            // A split newly in force: the rollouts waiting for it go on now rather than on the next tick.
            signals.Wake.Pulse();
        }
    }

    /// <summary>
    /// Reads back what the router has in force and notes, per target, the traffic whose split it verified (set,
    /// then verify), with the route as the router has it. A target with no route of its own (no listener, or one
    /// another environment holds) has nothing to wait for. True when what a target has in force changed.
    /// </summary>
    private async Task<bool> VerifyAsync(CancellationToken ct)
    {
        var inForce = (await router.InForceAsync(ct)).ToDictionary(r => r.Name, StringComparer.Ordinal);
        var changed = false;
        foreach (var (key, traffic, route) in planned)
        {
            var now = route is null ? new RoutedSplit(traffic, null)
                : inForce.TryGetValue(route.Name, out var held) && held.Split() == route.Split() ? new RoutedSplit(traffic, held) : null;
            if (now is not null && verified.GetValueOrDefault(key) != now)
            {
                verified[key] = now;
                changed = true;
            }
        }

        return changed;
    }

    /// <summary>
    /// The rollout's traffic as verified in force for a decision on <paramref name="instances"/> (observed now): only
    /// while the route in force also carries every instance that should serve, so that an instance found ready in
    /// this pass counts once the router routes to it (a release is not reported running before it is served).
    /// </summary>
    private TrafficState? RoutedNow(RolloutState state, IReadOnlyList<InstanceStatus> instances) =>
        verified.GetValueOrDefault(state.Target) is { } v && (v.Route is null || RoutingPlanner.RoutesAllServing(state, instances, v.Route)) ? v.Traffic : null;

    /// <summary>A target's traffic whose split the router has in force, with its route as read back (null: the target has no route of its own).</summary>
    private sealed record RoutedSplit(TrafficState Traffic, TrafficRoute? Route);
}
