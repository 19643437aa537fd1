using System.Globalization;
using System.Text;
using Gantry.Core.Manifest;
using Gantry.Core.Runtime;
using Gantry.Runtime.Docker;

namespace Gantry.Runtime.Swarm;

/// <summary>
/// Release sets as services of a Docker Swarm, created and scaled through a manager's Engine API. The swarm places,
/// starts and restarts tasks on its nodes; Gantry watches the tasks (<see cref="WatchOnceAsync"/>), probes each
/// running one's readiness at its node's address and the port of its slot, and reports them as instances. Services
/// outlive the control plane: a new one finds them by their labels and takes back those a rollout asks for again.
/// </summary>
/// <param name="engine">A manager of the swarm.</param>
/// <param name="owner">Marks this control plane's services (several may share a swarm).</param>
/// <param name="firstPort">The first port of the range sets take blocks of <see cref="SwarmServiceBody.PortsPerSet"/> from.</param>
public sealed partial class SwarmRuntime(DockerEngine engine, string owner, TimeProvider time, int firstPort = 30000) : IRuntime
{
    private const int Blocks = 100;
    private readonly SemaphoreSlim gate = new(1, 1);
    private readonly Dictionary<InstanceSetId, SwarmSet> sets = [];
    private readonly HashSet<InstanceSetId> leftSecrets = [];
    private readonly Dictionary<int, DateTimeOffset> retiring = [];
    private readonly CancellationTokenSource stopping = new();
    private volatile IReadOnlyList<InstanceStatus> observed = [];
    private Task? watching;
    private bool discovered;

    public string Name => SwarmSpec.RuntimeKind;

    public RuntimeCapabilities Capabilities => RuntimeCapabilities.MultiHost | RuntimeCapabilities.Adoption | RuntimeCapabilities.Logs | RuntimeCapabilities.ChangeSignals;

    public async Task<IReadOnlyList<InstanceStatus>> EnsureAsync(InstanceSetSpec spec, CancellationToken ct)
    {
        if (spec.Replicas >= SwarmServiceBody.PortsPerSet)
        {
            throw new InvalidOperationException($"a swarm set has at most {SwarmServiceBody.PortsPerSet - 1} tasks (one port per slot), not {spec.Replicas}");
        }

        await gate.WaitAsync(ct);
        try
        {
            await DiscoverAsync(ct);
            watching ??= Task.Run(() => WatchAsync(stopping.Token), CancellationToken.None);
            var set = sets.GetValueOrDefault(spec.SetId);
            if (set is not null && set.Version != spec.Version)
            {
                // A predecessor's service under this set's name for another version: it goes, and the set starts afresh.
                await engine.RemoveServiceAsync(set.ServiceId, ct);
                sets.Remove(spec.SetId);
                set = null;
            }

            if (set is null)
            {
                set = await CreateAsync(spec, ct);
                sets[spec.SetId] = set;
                await RefreshAsync(set, ct);
            }
            else if (set.Replicas != spec.Replicas || set.Spec is null)
            {
                // Scaled, or a predecessor's service of this release taken back as it runs (its tasks kept; a
                // changed configuration applies from the next release, as for adopted processes). Taken back, its
                // running tasks are probed at once and judged as instances that served until now (Probes.TakenBack):
                // the first table must not go without them for one slow probe.
                var adopted = set.Spec is null;
                await ScaleAsync(set, spec.Replicas, ct);
                set.Spec ??= spec;
                await RefreshAsync(set, ct, takenBack: adopted);
            }

            // Otherwise nothing to ask the engine: the watch keeps the set's instances current.
            Publish();
            return set.Instances;
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>Creates the set's service (and its secrets) on a free block of ports.</summary>
    private async Task<SwarmSet> CreateAsync(InstanceSetSpec spec, CancellationToken ct)
    {
        var portBase = await FreeBlockAsync(ct);
        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        var secretValues = new Dictionary<string, string>(StringComparer.Ordinal);
        var values = SwarmServiceBody.Values(spec, portBase);
        foreach (var (key, value) in spec.Service.Runtime.Env.Concat(spec.ExtraEnv))
        {
            (spec.Secrets.Contains(key) ? secretValues : environment)[key] = Placeholders.Expand(value, values);
        }

        var body = SwarmServiceBody.For(spec, owner, portBase, environment, await SecretsAsync(spec, secretValues, ct));
        var id = await engine.CreateServiceAsync(body, ct);
        return new SwarmSet(spec.SetId, id, portBase, spec.Version) { Spec = spec, Replicas = spec.Replicas };
    }

    /// <summary>Changes only the replicas of a set's service, at the version the engine has now.</summary>
    private async Task ScaleAsync(SwarmSet set, int replicas, CancellationToken ct)
    {
        var current = (await engine.ServicesAsync(SwarmServiceBody.SetLabels(owner, set.SetId), ct)).FirstOrDefault(s => s.Id == set.ServiceId)
            ?? throw new InvalidOperationException($"the swarm service of {set.SetId} is gone");
        if (current.Replicas != replicas)
        {
            var spec = current.Spec.DeepClone().AsObject();
            spec["Mode"] = new System.Text.Json.Nodes.JsonObject { ["Replicated"] = new System.Text.Json.Nodes.JsonObject { ["Replicas"] = replicas } };
            await engine.UpdateServiceAsync(current.Id, current.Version, spec, ct);
        }

        set.Replicas = replicas;
    }

    /// <summary>The set's secrets as swarm secrets, named by their content so a changed value is a new secret.</summary>
    private async Task<IReadOnlyList<SwarmSecretRef>> SecretsAsync(InstanceSetSpec spec, Dictionary<string, string> values, CancellationToken ct)
    {
        var refs = new List<SwarmSecretRef>();
        foreach (var (name, value) in values.OrderBy(v => v.Key, StringComparer.Ordinal))
        {
            var data = Encoding.UTF8.GetBytes(value);
            var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(data))[..12];
            var secretName = $"{SwarmServiceBody.NameOf(owner, spec.SetId)}-{name.ToLowerInvariant()}-{hash}";
            refs.Add(new SwarmSecretRef(name, await engine.CreateSecretAsync(secretName, SwarmServiceBody.SetLabels(owner, spec.SetId), data, ct), secretName));
        }

        return refs;
    }

    /// <summary>Once: the services this owner left in the swarm, kept as unclaimed sets until a rollout asks for them.</summary>
    private async Task DiscoverAsync(CancellationToken ct)
    {
        if (discovered)
        {
            return;
        }

        foreach (var service in await engine.ServicesAsync(new Dictionary<string, string> { [ContainerBody.OwnerLabel] = owner }, ct))
        {
            var l = service.Labels;
            if (l.TryGetValue(ContainerBody.ServiceLabel, out var name) && l.TryGetValue(ContainerBody.EnvironmentLabel, out var environment) && l.TryGetValue(ContainerBody.SetLabel, out var key)
                && int.TryParse(l.GetValueOrDefault(SwarmServiceBody.PortBaseLabel), NumberStyles.None, CultureInfo.InvariantCulture, out var portBase))
            {
                var id = new InstanceSetId(name, environment, key);
                sets[id] = new SwarmSet(id, service.Id, portBase, l.GetValueOrDefault(ContainerBody.VersionLabel) ?? key) { Replicas = service.Replicas };
            }
        }

        discovered = true;
    }

    /// <summary>
    /// The lowest block of ports no service in the swarm uses (any control plane's) and no removed set's tasks may
    /// still hold while they stop.
    /// </summary>
    private async Task<int> FreeBlockAsync(CancellationToken ct)
    {
        var now = time.GetUtcNow();
        foreach (var done in retiring.Where(r => r.Value <= now).Select(r => r.Key).ToList())
        {
            retiring.Remove(done);
        }

        var used = (await engine.ServicesAsync(new Dictionary<string, string> { [SwarmServiceBody.PortBaseLabel] = string.Empty }, ct))
            .Select(s => int.TryParse(s.Labels.GetValueOrDefault(SwarmServiceBody.PortBaseLabel), NumberStyles.None, CultureInfo.InvariantCulture, out var b) ? b : -1)
            .Concat(sets.Values.Select(s => s.PortBase)).Concat(retiring.Keys).ToHashSet();
        return Enumerable.Range(0, Blocks).Select(i => firstPort + (i * SwarmServiceBody.PortsPerSet)).FirstOrDefault(b => !used.Contains(b), -1) is var free and >= 0
            ? free
            : throw new InvalidOperationException($"every block of ports from {firstPort} is taken by a set");
    }

    /// <summary>Removes the set's service (its tasks stop gracefully, the engine waiting their stop timeout); its secrets go once no task uses them (<see cref="WatchOnceAsync"/>).</summary>
    public async Task StopAsync(InstanceSetId setId, CancellationToken ct)
    {
        await gate.WaitAsync(ct);
        try
        {
            await DiscoverAsync(ct);
            if (sets.Remove(setId, out var set))
            {
                await engine.RemoveServiceAsync(set.ServiceId, ct);
                Retire(set);
                Publish();
            }
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>A set that went: its secrets removed once unused, its ports not given to another set until its tasks have had time to stop.</summary>
    private void Retire(SwarmSet set)
    {
        leftSecrets.Add(set.SetId);
        retiring[set.PortBase] = time.GetUtcNow() + (set.Spec?.Service.Runtime.StopTimeout ?? ProcessSpec.DefaultStopTimeout) + TimeSpan.FromSeconds(5);
    }

    public IReadOnlyList<InstanceStatus> Observe() => observed;

    /// <summary>A task's last lines, from the node it runs on (through the manager).</summary>
    public async Task<IReadOnlyList<string>> LogsAsync(string instanceId, CancellationToken ct) =>
        observed.Any(i => i.Id == instanceId) ? await engine.TaskLogsAsync(instanceId, 1000, ct) : [];

    /// <summary>Every service of an owner removed, and its secrets once no task uses them (gantry down); returns how many services.</summary>
    public static async Task<int> RemoveAllAsync(DockerEngine engine, string owner, TimeProvider time, CancellationToken ct)
    {
        var labels = new Dictionary<string, string> { [ContainerBody.OwnerLabel] = owner };
        var services = await engine.ServicesAsync(labels, ct);
        foreach (var service in services)
        {
            await engine.RemoveServiceAsync(service.Id, ct);
        }

        for (var tries = 0; await engine.RemoveSecretsAsync(labels, ct) > 0 && tries < 60; tries++)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(500), time, ct);
        }

        return services.Count;
    }

    /// <summary>Stops watching; the services keep running in the swarm for the next control plane.</summary>
    public async ValueTask DisposeAsync()
    {
        await stopping.CancelAsync();
        if (watching is not null)
        {
            await watching.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        stopping.Dispose();
        gate.Dispose();
        engine.Dispose();
    }
}
