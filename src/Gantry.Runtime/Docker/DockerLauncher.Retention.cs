using System.Globalization;
using Gantry.Core.Manifest;
using Gantry.Core.Runtime;
using Gantry.Runtime.Process;

namespace Gantry.Runtime.Docker;

/// <summary>
/// Retained releases: the containers of a set that left traffic are kept (stopped, or running when warm) for the
/// service's `retain`, so a rollback to it is a start (or only a switch). Pruning keeps the newest releases within
/// their time and removes the rest; an image goes only when no container, kept or running, uses it.
/// </summary>
public sealed partial class DockerLauncher
{
    private static RetainSpec? RetainOf(InstanceSetSpec spec) => (spec.Service.Runtime as DockerSpec)?.Retain is { Releases: > 0 } retain ? retain : null;

    public bool KeepsRunning(InstanceSetSpec spec) => RetainOf(spec) is { Warm: true };

    public async Task StoppedAsync(InstanceSetSpec spec, string instanceId, CancellationToken ct)
    {
        secrets.Remove(instanceId);
        if (RetainOf(spec) is null)
        {
            await engine.RemoveAsync(ContainerOf(instanceId), ct);
        }
    }

    public async Task<IReadOnlyList<RetainedInstance>> RetainedAsync(InstanceSetSpec spec, CancellationToken ct)
    {
        if (RetainOf(spec) is null)
        {
            return [];
        }

        var kept = new List<RetainedInstance>();
        foreach (var container in await engine.ListAsync(LabelsOf(spec.SetId), ct))
        {
            if (container.Labels.GetValueOrDefault(ContainerBody.VersionLabel) != spec.Version
                || !int.TryParse(container.Labels.GetValueOrDefault(ContainerBody.IndexLabel), CultureInfo.InvariantCulture, out var index)
                || !int.TryParse(container.Labels.GetValueOrDefault(ContainerBody.PortLabel), CultureInfo.InvariantCulture, out var port)
                || container.Labels.GetValueOrDefault(ContainerBody.InstanceLabel) is not { } id)
            {
                continue;
            }

            var running = container.State.Running && await engine.InspectAsync(container.Id, ct) is { State.Running: true, Pid: > 0 } info
                ? new LaunchedProcess(info.Pid, ProcessStat.StartTime(info.Pid) ?? 0, ContainerBody.SignalNumber(((DockerSpec)spec.Service.Runtime).StopSignal))
                : null;
            kept.Add(new RetainedInstance(id, index, port, running));
        }

        return kept;
    }

    public async Task PruneAsync(InstanceSetSpec spec, IReadOnlySet<InstanceSetId> live, CancellationToken ct)
    {
        var retain = RetainOf(spec);
        var labels = new Dictionary<string, string>
        {
            [ContainerBody.OwnerLabel] = owner,
            [ContainerBody.ServiceLabel] = spec.Service.Name,
            [ContainerBody.EnvironmentLabel] = spec.Environment,
        };
        var kept = new List<(ContainerInfo Container, InstanceSetId Set, DateTimeOffset Left)>();
        foreach (var container in await engine.ListAsync(labels, ct))
        {
            var set = spec.SetId with { Key = container.Labels.GetValueOrDefault(ContainerBody.SetLabel) ?? string.Empty };
            if (!live.Contains(set) && await engine.InspectAsync(container.Id, ct) is { } info)
            {
                kept.Add((info, set, info.State.FinishedAt ?? time.GetUtcNow()));
            }
        }

        // The releases kept: the newest that left traffic (by when their containers last stopped; warm ones count as now), within their time.
        var now = time.GetUtcNow();
        var keep = kept.GroupBy(k => k.Set)
            .Select(g => (Set: g.Key, Left: g.Max(k => k.Container.State.Running ? now : k.Left)))
            .Where(g => retain is not null && now - g.Left <= retain.For)
            .OrderByDescending(g => g.Left)
            .Take(retain?.Releases ?? 0)
            .Select(g => g.Set)
            .ToHashSet();
        var removed = kept.Where(k => !keep.Contains(k.Set)).ToList();
        foreach (var (container, _, _) in removed)
        {
            await engine.RemoveAsync(container.Id, ct);
        }

        if (retain is null || removed.Count == 0)
        {
            return;
        }

        // Image cleanup, for services that retain releases: an image no container of this owner uses any more
        // (and the engine itself refuses while any container does).
        var inUse = (await engine.ListAsync(new Dictionary<string, string> { [ContainerBody.OwnerLabel] = owner }, ct)).Select(c => c.Image).ToHashSet(StringComparer.Ordinal);
        foreach (var image in removed.Select(r => r.Container.Image).Distinct(StringComparer.Ordinal).Where(i => !inUse.Contains(i)))
        {
            await engine.RemoveImageAsync(image, ct);
        }
    }

    private Dictionary<string, string> LabelsOf(InstanceSetId set) => new()
    {
        [ContainerBody.OwnerLabel] = owner,
        [ContainerBody.ServiceLabel] = set.Service,
        [ContainerBody.EnvironmentLabel] = set.Environment,
        [ContainerBody.SetLabel] = set.Key,
    };
}
