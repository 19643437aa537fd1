using System.Collections.Immutable;
using Gantry.Core.Manifest.Values;
using Gantry.Core.Runtime;
using Gantry.Runtime.Docker;

namespace Gantry.Runtime.Swarm;

/// <summary>One release set's service: where its ports start, its configuration, and its tasks as last seen.</summary>
internal sealed class SwarmSet(InstanceSetId setId, string serviceId, int portBase, string version)
{
    public InstanceSetId SetId { get; } = setId;

    public string ServiceId { get; } = serviceId;

    public int PortBase { get; } = portBase;

    public string Version { get; } = version;

    /// <summary>The rollout's spec once one asked for the set; null while it is a predecessor's, unclaimed.</summary>
    public InstanceSetSpec? Spec { get; set; }

    public int Replicas { get; set; }

    public ImmutableArray<InstanceStatus> Instances { get; set; } = [];

    /// <summary>Tasks whose readiness probe has passed once, and each task's failed probes in a row.</summary>
    public Dictionary<string, (bool EverReady, int Failures)> Probed { get; set; } = [];
}

/// <summary>Watching the tasks: what the engine says of each, and what its readiness probe says.</summary>
public sealed partial class SwarmRuntime
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(500);

    /// <summary>Watches every set until disposed, a pass every 500 ms (each running task probed once a pass).</summary>
    private async Task WatchAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await WatchOnceAsync(ct);
                await Task.Delay(Interval, time, ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is System.Text.Json.JsonException or InvalidOperationException or KeyNotFoundException or NullReferenceException)
            {
                // An answer of a shape not expected (another engine version): the next pass asks again; the last view stays.
                await Task.Delay(Interval, time, ct).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    /// <summary>
    /// One pass over every set: the nodes and each set's tasks from the manager, each running task probed, all
    /// outside the lock (a slow engine or probe never holds up a rollout), then the sets' views swapped. An unreachable
    /// manager leaves the last view, each instance saying why. Secrets of removed sets go once no task uses them.
    /// </summary>
    public async Task WatchOnceAsync(CancellationToken ct)
    {
        List<(SwarmSet Set, InstanceSetSpec? Spec, Dictionary<string, (bool EverReady, int Failures)> Probed)> watched;
        List<InstanceSetId> secrets;
        await gate.WaitAsync(ct);
        try
        {
            watched = [.. sets.Values.Select(s => (s, s.Spec, s.Probed))];
            secrets = [.. leftSecrets];
        }
        finally
        {
            gate.Release();
        }

        string? unreachable = null;
        var seen = new List<(SwarmSet Set, ImmutableArray<InstanceStatus> Instances, Dictionary<string, (bool EverReady, int Failures)> Probed, object Before)>();
        var gone = new List<InstanceSetId>();
        var removed = new List<SwarmSet>();
        try
        {
            var nodes = await engine.NodesAsync(ct);
            var alive = watched.Count == 0 ? [] : (await engine.ServicesAsync(new Dictionary<string, string> { [ContainerBody.OwnerLabel] = owner }, ct)).Select(s => s.Id).ToHashSet();
            foreach (var (set, spec, probed) in watched)
            {
                if (!alive.Contains(set.ServiceId))
                {
                    // Removed behind Gantry's back (docker service rm): forgotten, so that the next rollout pass creates it again.
                    removed.Add(set);
                    continue;
                }

                var (instances, next) = await ViewAsync(set, spec, probed, nodes, probe: true, ct);
                seen.Add((set, instances, next, probed));
            }

            foreach (var setId in secrets)
            {
                if (await engine.RemoveSecretsAsync(SwarmServiceBody.SetLabels(owner, setId), ct) == 0)
                {
                    gone.Add(setId);
                }
            }
        }
        catch (Exception ex) when (DockerEngine.IsUnreachable(ex))
        {
            unreachable = $"the swarm manager at {engine.Host} cannot be reached ({ex.GetBaseException().Message}); showing the last state seen";
        }

        await gate.WaitAsync(ct);
        try
        {
            // A set refreshed meanwhile (claimed, scaled, probed by EnsureAsync) keeps that newer view: this one is stale.
            foreach (var (set, instances, probed, _) in seen.Where(s => sets.GetValueOrDefault(s.Set.SetId) == s.Set && ReferenceEquals(s.Set.Probed, s.Before)))
            {
                set.Instances = instances;
                set.Probed = probed;
            }

            foreach (var set in removed.Where(s => sets.GetValueOrDefault(s.SetId) == s))
            {
                sets.Remove(set.SetId);
                Retire(set);
            }

            leftSecrets.ExceptWith(gone);
            if (unreachable is not null)
            {
                foreach (var set in sets.Values)
                {
                    set.Instances = [.. set.Instances.Select(i => i with { LastError = unreachable })];
                }
            }

            Publish();
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>
    /// The set's instances from its tasks now, without probing unless asked (a set just created or scaled), its
    /// running tasks judged as <see cref="Probes.TakenBack"/> when <paramref name="takenBack"/>; called under the lock.
    /// </summary>
    private async Task RefreshAsync(SwarmSet set, CancellationToken ct, bool probe = false, bool takenBack = false)
    {
        (set.Instances, set.Probed) = await ViewAsync(set, set.Spec, set.Probed, await engine.NodesAsync(ct), probe || takenBack, ct, takenBack);
    }

    /// <summary>A set's instances from its tasks: per slot, the task meant to run, with how often the slot's tasks failed; running ones probed when asked.</summary>
    private async Task<(ImmutableArray<InstanceStatus> Instances, Dictionary<string, (bool EverReady, int Failures)> Probed)> ViewAsync(
        SwarmSet set, InstanceSetSpec? spec, Dictionary<string, (bool EverReady, int Failures)> before, IReadOnlyList<SwarmNode> nodes, bool probe, CancellationToken ct, bool takenBack = false)
    {
        var tasks = await engine.TasksAsync(set.ServiceId, ct);
        var byNode = nodes.ToDictionary(n => n.Id);
        // A task about to run is desired "ready" until its node starts it, then "running"; others are on their way out.
        var current = tasks.Where(t => t.DesiredState is "running" or "ready" && t.Slot > 0).GroupBy(t => t.Slot).Select(g => g.MaxBy(t => t.Timestamp)!).OrderBy(t => t.Slot).ToList();
        var failed = tasks.Where(t => t.State is "failed" or "rejected").GroupBy(t => t.Slot).ToDictionary(g => g.Key, g => (Count: g.Count(), Last: g.MaxBy(t => t.Timestamp)!));
        var readiness = spec?.Service.Health.Readiness;
        // A running task taken back is probed until it passes or fails the threshold in a row (Probes.TakenBack);
        // otherwise one probe a pass, its failure one more miss.
        var probes = probe && readiness is not null
            ? await Task.WhenAll(current.Select(async t => (t.Id, Misses: t.State != "running" || !byNode.TryGetValue(t.NodeId, out var n) ? 1
                : takenBack ? await Probes.TakenBack.MissesAsync(c => ProbeAsync(Address(n, set, t), readiness, c), readiness, time, ct)
                : await ProbeAsync(Address(n, set, t), readiness, ct) ? 0 : 1)))
            : null;
        var probed = new Dictionary<string, (bool EverReady, int Failures)>();
        var instances = ImmutableArray.CreateBuilder<InstanceStatus>();
        foreach (var task in current)
        {
            var node = byNode.GetValueOrDefault(task.NodeId);
            var (everReady, misses) = before.GetValueOrDefault(task.Id);
            if (probes?.First(p => p.Id == task.Id).Misses is { } missed)
            {
                // Taken back running, a task was serving: ready, or not ready after the threshold (routed in a panic), never starting.
                (everReady, misses) = missed == 0 ? (true, 0) : takenBack && task.State == "running" ? (true, missed) : (everReady, misses + 1);
            }

            probed[task.Id] = (everReady, misses);
            var slot = failed.GetValueOrDefault(task.Slot);
            var (phase, error) = task.State != "running" && slot.Last?.Error?.Contains("No such image", StringComparison.OrdinalIgnoreCase) == true
                ? (InstancePhase.Failed, slot.Last.Error)
                : PhaseOf(spec, task, node, everReady, misses);
            instances.Add(new InstanceStatus(task.Id, set.SetId, set.Version, node is null ? new Endpoint("0.0.0.0", 0) : Address(node, set, task), phase,
                slot.Count, null, error ?? slot.Last?.Error, task.Slot - 1));
        }

        return (instances.ToImmutable(), probed);
    }

    /// <summary>
    /// What a task is to Gantry: starting until it runs and its readiness probe first passes; ready; not ready after
    /// the probe's failure threshold, or when its node is down or drained (the swarm is moving it); crashed while the
    /// engine restarts it. (Failed, when the slot's last task was refused for want of its image, is decided by the caller.)
    /// An unclaimed set is never ready.
    /// </summary>
    private static (InstancePhase Phase, string? Error) PhaseOf(InstanceSetSpec? spec, SwarmTask task, SwarmNode? node, bool everReady, int failed)
    {
        if (spec is null)
        {
            return (InstancePhase.NotReady, "left by the previous control plane; no rollout has claimed it");
        }

        if (node is { Up: false } or { Availability: "drain" })
        {
            return (InstancePhase.NotReady, $"node {node.Hostname} ({node.Address}) is {(node.Up ? "drained" : node.State)}");
        }

        var threshold = spec.Service.Health.Readiness?.FailureThreshold ?? 1;
        return task.State switch
        {
            "running" when spec.Service.Health.Readiness is null => (InstancePhase.Ready, null),
            "running" when everReady && failed < threshold => (InstancePhase.Ready, null),
            "running" when everReady => (InstancePhase.NotReady, $"its readiness probe failed {failed} times in a row"),
            "running" => (InstancePhase.Starting, "waiting for its readiness probe to pass"),
            "rejected" or "failed" or "shutdown" or "complete" or "orphaned" => (InstancePhase.Crashed, task.Error ?? $"the task is {task.State}"),
            _ => (InstancePhase.Starting, task.Error ?? $"the task is {task.State}"),
        };
    }

    /// <summary>Where a task listens: its node's address, at its set's base port plus its slot.</summary>
    private static Endpoint Address(SwarmNode node, SwarmSet set, SwarmTask task) => new(node.Address, set.PortBase + task.Slot);

    private static async Task<bool> ProbeAsync(Endpoint address, Core.Manifest.ProbeSpec readiness, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(readiness.Timeout);
        try
        {
            return await new Probes.HttpProbe(address.Host, address.Port, readiness.Path).PassesAsync(timeout.Token);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return false;
        }
    }

    /// <summary>Every set's instances, swapped whole for <see cref="Observe"/>.</summary>
    private void Publish()
    {
        IReadOnlyList<InstanceStatus> next = [.. sets.Values.SelectMany(s => s.Instances)];
        var before = observed;
        observed = next;
        if (!before.SequenceEqual(next))
        {
            changed?.Invoke();
        }
    }

    private Action? changed;

    public void WhenChanged(Action changed) => this.changed += changed;
}
