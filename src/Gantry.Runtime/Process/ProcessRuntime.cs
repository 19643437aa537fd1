using Gantry.Core.Runtime;

namespace Gantry.Runtime.Process;

/// <summary>The embedded default runtime: each instance is a supervised child process on a free loopback port.</summary>
/// <param name="time">The clock of probes, back-off and stop timeouts.</param>
/// <param name="logDirectory">Where each instance's output is kept in a file, if anywhere.</param>
/// <param name="owner">When given, every instance carries it in its environment; see <see cref="Orphans"/>.</param>
/// <param name="isolation">Who instances run as and which folders they may not work in (none by default).</param>
public sealed class ProcessRuntime(TimeProvider time, string? logDirectory = null, string? owner = null, InstanceIsolation? isolation = null) : IRuntime
{
    private readonly Dictionary<InstanceSetId, List<ManagedInstance>> sets = [];
    private readonly SemaphoreSlim gate = new(1, 1);
    private readonly HttpClient probes = new(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false, PooledConnectionLifetime = TimeSpan.FromMinutes(1) });

    public string Name => Core.Manifest.ProcessSpec.RuntimeKind;

    /// <summary>Child processes of the server, stopped with it (adoption is the data-plane issue's work); isolated when the server runs as root.</summary>
    public RuntimeCapabilities Capabilities => RuntimeCapabilities.Logs | (isolation is { DefaultUser: not null } ? RuntimeCapabilities.UserIsolation : RuntimeCapabilities.None);

    public async Task<IReadOnlyList<InstanceStatus>> EnsureAsync(InstanceSetSpec spec, CancellationToken ct)
    {
        if (logDirectory is not null)
        {
            Directory.CreateDirectory(logDirectory);
        }

        await gate.WaitAsync(ct);
        try
        {
            if (!sets.TryGetValue(spec.SetId, out var instances))
            {
                sets[spec.SetId] = instances = [];
            }

            while (instances.Count < spec.Replicas)
            {
                var index = Enumerable.Range(0, instances.Count + 1).First(i => instances.TrueForAll(x => x.Index != i));
                var instance = new ManagedInstance(spec, index, time, probes, logDirectory, owner, isolation);
                instance.Start();
                instances.Add(instance);
            }

            foreach (var extra in instances.OrderByDescending(i => i.Index).Take(instances.Count - spec.Replicas).ToList())
            {
                instances.Remove(extra);
                await extra.DisposeAsync();
            }

            return [.. instances.Select(i => i.Status)];
        }
        finally
        {
            gate.Release();
        }
    }

    public async Task StopAsync(InstanceSetId setId, CancellationToken ct)
    {
        await gate.WaitAsync(ct);
        try
        {
            if (sets.Remove(setId, out var instances))
            {
                await Task.WhenAll(instances.Select(i => i.DisposeAsync().AsTask()));
            }
        }
        finally
        {
            gate.Release();
        }
    }

    public IReadOnlyList<InstanceStatus> Observe()
    {
        gate.Wait();
        try
        {
            return [.. sets.Values.SelectMany(s => s).Select(i => i.Status)];
        }
        finally
        {
            gate.Release();
        }
    }

    public IReadOnlyList<string> Logs(string instanceId)
    {
        gate.Wait();
        try
        {
            return sets.Values.SelectMany(s => s).FirstOrDefault(i => i.Id == instanceId)?.Logs() ?? [];
        }
        finally
        {
            gate.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var setId in sets.Keys.ToList())
        {
            await StopAsync(setId, CancellationToken.None);
        }

        probes.Dispose();
        gate.Dispose();
    }
}
