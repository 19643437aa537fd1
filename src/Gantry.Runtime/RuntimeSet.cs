using Gantry.Core.Runtime;

namespace Gantry.Runtime;

/// <summary>Several runtimes as one: each set goes to the runtime of its service's section (process, docker); observing and stopping ask all.</summary>
public sealed class RuntimeSet(IReadOnlyList<IRuntime> runtimes) : IRuntime
{
    public string Name => string.Join('+', runtimes.Select(r => r.Name));

    /// <summary>What every one of them can do, and usage readings if any of them reads them.</summary>
    public RuntimeCapabilities Capabilities => runtimes.Select(r => r.Capabilities).Aggregate((a, b) => a & b) | runtimes.Select(r => r.Capabilities & RuntimeCapabilities.Usage).Aggregate((a, b) => a | b);

    public bool Runs(string kind) => runtimes.Any(r => r.Runs(kind));

    public Task<IReadOnlyList<InstanceStatus>> EnsureAsync(InstanceSetSpec spec, CancellationToken ct) =>
        (runtimes.FirstOrDefault(r => r.Runs(spec.Service.Runtime.Kind)) ?? throw new InvalidOperationException($"no runtime runs '{spec.Service.Runtime.Kind}' sections")).EnsureAsync(spec, ct);

    public async Task StopAsync(InstanceSetId setId, CancellationToken ct)
    {
        foreach (var runtime in runtimes)
        {
            await runtime.StopAsync(setId, ct);
        }
    }

    public IReadOnlyList<InstanceStatus> Observe() => [.. runtimes.SelectMany(r => r.Observe())];

    public IReadOnlyList<InstanceStatus> Observe(TargetId target) => [.. runtimes.SelectMany(r => r.Observe(target))];

    public void WhenChanged(Action changed)
    {
        foreach (var runtime in runtimes)
        {
            runtime.WhenChanged(changed);
        }
    }

    public async Task<InstanceUsage?> UsageAsync(string instanceId, CancellationToken ct)
    {
        foreach (var runtime in runtimes.Where(r => r.Capabilities.HasFlag(RuntimeCapabilities.Usage)))
        {
            if (await runtime.UsageAsync(instanceId, ct) is { } usage)
            {
                return usage;
            }
        }

        return null;
    }

    public Task ReleaseAsync(CancellationToken ct) => Task.WhenAll(runtimes.Select(r => r.ReleaseAsync(ct)));

    public async Task<IReadOnlyList<string>> LogsAsync(string instanceId, CancellationToken ct)
    {
        foreach (var runtime in runtimes)
        {
            if (await runtime.LogsAsync(instanceId, ct) is { Count: > 0 } lines)
            {
                return lines;
            }
        }

        return [];
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var runtime in runtimes)
        {
            await runtime.DisposeAsync();
        }
    }
}
