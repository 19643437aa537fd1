using System.Collections.Immutable;
using Gantry.Core.Manifest.Values;
using Gantry.Core.Runtime;
using Gantry.Runtime.Docker;

namespace Gantry.Runtime.Swarm;

/// <summary>One release set's service: where its ports start, its configuration, and its tasks as last seen.</summary>
internal sealed class SwarmSet(InstanceSetId setId, string serviceId, int portBase, string configuration, string version)
{
    public InstanceSetId SetId { get; } = setId;

    public string ServiceId { get; } = serviceId;

    public int PortBase { get; } = portBase;

    public string Configuration { get; } = configuration;

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
    private IReadOnlyList<SwarmNode> nodes = [];

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
        }
    }

    /// <summary>One pass over every set: its tasks from the manager, each running one probed. An unreachable manager leaves the last view, each instance saying why.</summary>
    public async Task WatchOnceAsync(CancellationToken ct)
    {
        await gate.WaitAsync(ct);
        try
        {
            try
            {
                nodes = await engine.NodesAsync(ct);
                foreach (var set in sets.Values.ToList())
                {
                    await RefreshAsync(set, probe: set.Spec is not null, ct);
                }
            }
            catch (Exception ex) when (DockerEngine.IsUnreachable(ex))
            {
                var why = $"the swarm manager at {engine.Host} cannot be reached ({ex.GetBaseException().Message}); showing the last state seen";
                foreach (var set in sets.Values)
                {
                    set.Instances = [.. set.Instances.Select(i => i with { LastError = why })];
                }
            }

            Publish();
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>The set's instances from its tasks: per slot, the task meant to run, with how often the slot's tasks failed.</summary>
    private async Task RefreshAsync(SwarmSet set, bool probe, CancellationToken ct)
    {
        var tasks = await engine.TasksAsync(set.ServiceId, ct);
        if (nodes.Count == 0)
        {
            nodes = await engine.NodesAsync(ct);
        }

        var byNode = nodes.ToDictionary(n => n.Id);
        var current = tasks.Where(t => t.DesiredState is "running" or "ready" && t.Slot > 0).GroupBy(t => t.Slot).Select(g => g.MaxBy(t => t.Timestamp)!).OrderBy(t => t.Slot).ToList();
        var failures = tasks.Where(t => t.State is "failed" or "rejected").GroupBy(t => t.Slot).ToDictionary(g => g.Key, g => g.Count());
        var probes = probe && set.Spec?.Service.Health.Readiness is { } readiness
            ? await Task.WhenAll(current.Select(async t => (t.Id, Passed: t.State == "running" && byNode.TryGetValue(t.NodeId, out var n) && await ProbeAsync(Address(n, set, t), readiness, ct))))
            : null;
        var probed = new Dictionary<string, (bool EverReady, int Failures)>();
        var instances = ImmutableArray.CreateBuilder<InstanceStatus>();
        foreach (var task in current)
        {
            var node = byNode.GetValueOrDefault(task.NodeId);
            var (everReady, failed) = set.Probed.GetValueOrDefault(task.Id);
            var passed = probes?.First(p => p.Id == task.Id).Passed;
            if (passed is { } p)
            {
                (everReady, failed) = p ? (true, 0) : (everReady, failed + 1);
            }

            probed[task.Id] = (everReady, failed);
            var (phase, error) = PhaseOf(set, task, node, everReady, failed, probe: passed is not null || set.Spec?.Service.Health.Readiness is null);
            instances.Add(new InstanceStatus(task.Id, set.SetId, set.Version, node is null ? new Endpoint("0.0.0.0", 0) : Address(node, set, task), phase,
                failures.GetValueOrDefault(task.Slot), null, error, task.Slot - 1));
        }

        set.Probed = probed;
        set.Instances = instances.ToImmutable();
    }

    /// <summary>
    /// What a task is to Gantry: starting until it runs and its readiness probe first passes; ready; not ready after
    /// the probe's failure threshold, or when its node is down or drained (the swarm is moving it); crashed while the
    /// engine restarts it; failed when it cannot start as specified (no such image). An unclaimed set is never ready.
    /// </summary>
    private static (InstancePhase Phase, string? Error) PhaseOf(SwarmSet set, SwarmTask task, SwarmNode? node, bool everReady, int failed, bool probe)
    {
        if (set.Spec is null)
        {
            return (InstancePhase.NotReady, "left by the previous control plane; no rollout has claimed it");
        }

        if (node is { Up: false } or { Availability: "drain" })
        {
            return (InstancePhase.NotReady, $"node {node.Hostname} ({node.Address}) is {(node.Up ? "drained" : node.State)}");
        }

        var threshold = set.Spec.Service.Health.Readiness?.FailureThreshold ?? 1;
        return task.State switch
        {
            "running" when set.Spec.Service.Health.Readiness is null => (InstancePhase.Ready, null),
            "running" when everReady && failed < threshold => (InstancePhase.Ready, null),
            "running" when everReady => (InstancePhase.NotReady, $"its readiness probe failed {failed} times in a row"),
            "running" => (InstancePhase.Starting, probe ? null : "waiting for its readiness probe"),
            "rejected" or "failed" when task.Error?.Contains("No such image", StringComparison.OrdinalIgnoreCase) == true => (InstancePhase.Failed, task.Error),
            "rejected" or "failed" or "shutdown" or "complete" or "orphaned" => (InstancePhase.Crashed, task.Error ?? $"the task is {task.State}"),
            _ => (InstancePhase.Starting, task.Error ?? $"the task is {task.State}"),
        };
    }

    /// <summary>Where a task listens: its node's address, at its set's base port plus its slot.</summary>
    private static Endpoint Address(SwarmNode node, SwarmSet set, SwarmTask task) => new(node.Address, set.PortBase + task.Slot);

    private async Task<bool> ProbeAsync(Endpoint address, Core.Manifest.ProbeSpec readiness, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(readiness.Timeout);
        try
        {
            using var response = await probes.GetAsync($"http://{address.Host}:{address.Port}{readiness.Path}", HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            return (int)response.StatusCode is >= 200 and < 400;
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException && !ct.IsCancellationRequested)
        {
            return false;
        }
    }

    /// <summary>Every set's instances, swapped whole for <see cref="Observe"/>.</summary>
    private void Publish() => observed = [.. sets.Values.SelectMany(s => s.Instances)];
}
