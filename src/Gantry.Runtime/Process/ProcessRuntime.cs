using Gantry.Core.Runtime;

namespace Gantry.Runtime.Process;

/// <summary>
/// The embedded default runtime: each instance is a supervised process on a free loopback port. Attached (the
/// default), instances are children of this process and stop with it. Detached (<paramref name="recordFolder"/>
/// given), each runs in a session of its own with its output in its log file, is recorded in the folder, and is
/// left running when the control plane stops or dies; the next runtime on the folder adopts what it is given in
/// <paramref name="adoptable"/> when a rollout asks for that set again, with the same pid and port.
/// </summary>
/// <param name="time">The clock of probes, back-off and stop timeouts.</param>
/// <param name="logDirectory">Where each instance's output is kept in a file, if anywhere (required when detached).</param>
/// <param name="owner">When given, every instance carries it in its environment; see <see cref="Orphans"/>.</param>
/// <param name="isolation">Who instances run as and which folders they may not work in (none by default).</param>
/// <param name="recordFolder">Detached: where instance records are kept for the next control plane.</param>
/// <param name="adoptable">Detached: the records of a predecessor's instances still running (<see cref="AdoptionRecord.Living"/>).</param>
/// <param name="launcher">Instances started another way (containers of an engine), supervised the same way; the runtime is then named after it.</param>
public sealed class ProcessRuntime(TimeProvider time, string? logDirectory = null, string? owner = null, InstanceIsolation? isolation = null, string? recordFolder = null, IReadOnlyList<AdoptionRecord>? adoptable = null, IInstanceLauncher? launcher = null) : IRuntime
{
    private static readonly TimeSpan UnclaimedStopTimeout = TimeSpan.FromSeconds(10);
    private readonly Dictionary<InstanceSetId, List<ManagedInstance>> sets = [];
    private readonly Dictionary<InstanceSetId, List<AdoptionRecord>> unclaimed = (adoptable ?? []).Where(r => r.Runtime == (launcher?.Kind ?? Core.Manifest.ProcessSpec.RuntimeKind)).GroupBy(r => r.SetId).ToDictionary(g => g.Key, g => g.ToList());
    private readonly SemaphoreSlim gate = new(1, 1);
    private readonly HttpClient probes = new(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false, PooledConnectionLifetime = TimeSpan.FromMinutes(1) });
    private InstanceOptions? options;

    public string Name => launcher?.Kind ?? Core.Manifest.ProcessSpec.RuntimeKind;

    /// <summary>Detached instances are adopted by the next control plane; isolated when the server runs as root.</summary>
    public RuntimeCapabilities Capabilities => RuntimeCapabilities.Logs
        | (isolation is { DefaultUser: not null } && launcher is null ? RuntimeCapabilities.UserIsolation : RuntimeCapabilities.None)
        | (Options.Detached || (launcher is not null && recordFolder is not null) ? RuntimeCapabilities.Adoption : RuntimeCapabilities.None);

    /// <summary>How many instances were taken back from a predecessor so far.</summary>
    public int Adopted { get; private set; }

    private InstanceOptions Options => options ??= new InstanceOptions(time, probes, logDirectory, owner, isolation ?? InstanceIsolation.None, recordFolder, launcher);

    public async Task<IReadOnlyList<InstanceStatus>> EnsureAsync(InstanceSetSpec spec, CancellationToken ct)
    {
        if (logDirectory is not null)
        {
            Directory.CreateDirectory(logDirectory);
        }

        if (recordFolder is not null)
        {
            Directory.CreateDirectory(recordFolder);
        }

        await gate.WaitAsync(ct);
        try
        {
            if (!sets.TryGetValue(spec.SetId, out var instances))
            {
                sets[spec.SetId] = instances = [];
                await AdoptAsync(spec, instances, ct);
            }

            while (instances.Count < spec.Replicas)
            {
                var index = Enumerable.Range(0, instances.Count + 1).First(i => instances.TrueForAll(x => x.Index != i));
                var instance = new ManagedInstance(spec, index, Options);
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

    /// <summary>Takes back a predecessor's instances of this set (the same version): checked once for readiness, then supervised.</summary>
    private async Task AdoptAsync(InstanceSetSpec spec, List<ManagedInstance> instances, CancellationToken ct)
    {
        if (!unclaimed.Remove(spec.SetId, out var records))
        {
            return;
        }

        foreach (var record in records)
        {
            if (record.Version != spec.Version || instances.Exists(i => i.Index == record.Index))
            {
                await StopRecordedAsync(record, ct);
                continue;
            }

            var instance = new ManagedInstance(spec, record.Index, Options, record);
            await instance.CheckAdoptedAsync(ct);
            instance.Start();
            instances.Add(instance);
            Adopted++;
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

            if (unclaimed.Remove(setId, out var records))
            {
                await Task.WhenAll(records.Select(r => StopRecordedAsync(r, ct)));
            }
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>A predecessor's instance nobody claimed: SIGTERM, then SIGKILL to its session; its record goes.</summary>
    private async Task StopRecordedAsync(AdoptionRecord record, CancellationToken ct)
    {
        using var process = InstanceProcess.Adopt(record);
        process.Signal(15);
        using var wait = new CancellationTokenSource(UnclaimedStopTimeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(wait.Token, ct);
        try
        {
            await process.WaitForExitAsync(time, linked.Token);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            process.KillTree();
        }

        if (recordFolder is not null)
        {
            File.Delete(AdoptionRecord.PathOf(recordFolder, record.Id));
        }
    }

    /// <summary>Every instance, with a predecessor's not yet claimed ones as not ready (nothing routes to them).</summary>
    public IReadOnlyList<InstanceStatus> Observe()
    {
        gate.Wait();
        try
        {
            return [.. sets.Values.SelectMany(s => s).Select(i => i.Status).Concat(unclaimed.Values.SelectMany(r => r).Select(Unclaimed))];
        }
        finally
        {
            gate.Release();
        }
    }

    private static InstanceStatus Unclaimed(AdoptionRecord r) =>
        new(r.Id, r.SetId, r.Version, new Core.Manifest.Values.Endpoint("127.0.0.1", r.Port), InstancePhase.NotReady, r.Restarts, r.Pid, "left by the previous control plane; no rollout has claimed it", r.Index);

    public IReadOnlyList<string> Logs(string instanceId)
    {
        gate.Wait();
        try
        {
            if (sets.Values.SelectMany(s => s).FirstOrDefault(i => i.Id == instanceId) is { } instance)
            {
                return instance.Logs();
            }

            return logDirectory is not null && unclaimed.Values.SelectMany(r => r).Any(r => r.Id == instanceId)
                ? LogTail.Read(Path.Combine(logDirectory, instanceId + ".log"), 1000)
                : [];
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>Attached: stops every instance. Detached (or launched into an engine and recorded): stops supervising and leaves them serving for the next control plane.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Options.Detached || (launcher is not null && recordFolder is not null))
        {
            foreach (var instance in sets.Values.SelectMany(s => s))
            {
                await instance.ReleaseAsync();
            }

            sets.Clear();
        }

        foreach (var setId in sets.Keys.ToList())
        {
            await StopAsync(setId, CancellationToken.None);
        }

        probes.Dispose();
        gate.Dispose();
        (launcher as IDisposable)?.Dispose();
    }
}
