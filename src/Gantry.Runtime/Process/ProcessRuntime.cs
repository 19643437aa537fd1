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
public sealed partial class ProcessRuntime(TimeProvider time, string? logDirectory = null, string? owner = null, InstanceIsolation? isolation = null, string? recordFolder = null, IReadOnlyList<AdoptionRecord>? adoptable = null, IInstanceLauncher? launcher = null) : IRuntime
{
    private static readonly TimeSpan UnclaimedStopTimeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Other control planes on this data directory write instance records too (replicas of one store): the records of
    /// a set are read again when it is first ensured, not only at start. Alone, the records read at start are all there is.
    /// </summary>
    public bool SharedRecords { get; init; }
    private readonly Dictionary<InstanceSetId, List<ManagedInstance>> sets = [];
    private readonly Dictionary<InstanceSetId, List<AdoptionRecord>> unclaimed = (adoptable ?? []).Where(r => r.Runtime == (launcher?.Kind ?? Core.Manifest.ProcessSpec.RuntimeKind)).GroupBy(r => r.SetId).ToDictionary(g => g.Key, g => g.ToList());
    private readonly SemaphoreSlim gate = new(1, 1);

    /// <summary>Sets taken out of <see cref="sets"/> whose instances are still stopping (under the gate): the wait for a slow instance holds up nothing else.</summary>
    private readonly Dictionary<InstanceSetId, Task> stopping = [];

    /// <summary>Instances scaled away and still stopping, per set (under the gate): their indexes, so their ids and records, are not given to new ones meanwhile.</summary>
    private readonly Dictionary<InstanceSetId, List<ManagedInstance>> retiring = [];
    private InstanceOptions? options;

    /// <summary>Set under the gate when disposal begins: an ensure that gets the gate after it (a scale-down still waiting) starts nothing.</summary>
    private bool disposed;

    public string Name => launcher?.Kind ?? Core.Manifest.ProcessSpec.RuntimeKind;

    /// <summary>Detached instances are adopted by the next control plane; isolated when the server runs as root.</summary>
    public RuntimeCapabilities Capabilities => RuntimeCapabilities.Logs | RuntimeCapabilities.ChangeSignals
        | (launcher is not null ? RuntimeCapabilities.Usage : RuntimeCapabilities.None)
        | (isolation is { DefaultUser: not null } && launcher is null ? RuntimeCapabilities.UserIsolation : RuntimeCapabilities.None)
        | (Options.Outlives ? RuntimeCapabilities.Adoption : RuntimeCapabilities.None);

    /// <summary>How many instances were taken back from a predecessor so far.</summary>
    public int Adopted { get; private set; }

    private InstanceOptions Options => options ??= new InstanceOptions(time, logDirectory, owner, isolation ?? InstanceIsolation.None, recordFolder, launcher) { Changed = () => changed?.Invoke() };

    private Action? changed;

    public void WhenChanged(Action changed) => this.changed += changed;

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

        while (true)
        {
            Task? inFlight;
            Task<Task>? retirement = null;
            var extras = new List<ManagedInstance>();
            IReadOnlyList<InstanceStatus> statuses;
            await gate.WaitAsync(ct);
            try
            {
                ObjectDisposedException.ThrowIf(disposed, this);
                if (!stopping.TryGetValue(spec.SetId, out inFlight))
                {
                    if (!sets.TryGetValue(spec.SetId, out var instances))
                    {
                        sets[spec.SetId] = instances = [];
                        await AdoptAsync(spec, instances, ct);
                        await ResumeRetainedAsync(spec, instances, ct);
                    }

                    var leaving = retiring.GetValueOrDefault(spec.SetId, []);
                    while (instances.Count < spec.Replicas)
                    {
                        var index = Enumerable.Range(0, instances.Count + leaving.Count + 1).First(i => instances.TrueForAll(x => x.Index != i) && leaving.TrueForAll(x => x.Index != i));
                        var instance = new ManagedInstance(spec, index, Options);
                        instance.Start();
                        instances.Add(instance);
                    }

                    extras.AddRange(instances.OrderByDescending(i => i.Index).Take(instances.Count - spec.Replicas));
                    instances.RemoveAll(extras.Contains);
                    if (extras.Count > 0)
                    {
                        retiring[spec.SetId] = [.. leaving, .. extras];
                        // Known under the gate, before it starts: a stop of the set that comes next waits for it.
                        var taken = extras.ToList();
                        retirement = new Task<Task>(() => RetireAsync(spec.SetId, taken));
                        Track(spec.SetId, retirement.Unwrap());
                    }
                }

                statuses = [.. sets.GetValueOrDefault(spec.SetId, []).Select(i => i.Status)];
            }
            finally
            {
                gate.Release();
                retirement?.Start(TaskScheduler.Default);
            }

            if (inFlight is null)
            {
                // Instances scaled away left the set under the gate; they stop outside it, each within its stop timeout,
                // and nobody waits for them but a stop of the set and the runtime's disposal: the set may be scaled up again meanwhile (its
                // new instances take the next free indexes).
                return statuses;
            }

            // The same set asked for again while its instances stop (a quick rollback): started once they have gone.
            await Task.WhenAny(inFlight).WaitAsync(ct);
        }
    }

    /// <summary>Takes back a predecessor's instances of this set (the same version): checked once for readiness, then supervised.</summary>
    private async Task AdoptAsync(InstanceSetSpec spec, List<ManagedInstance> instances, CancellationToken ct)
    {
        if (SharedRecords && recordFolder is not null && owner is not null && Options.Outlives)
        {
            // Read again now: another control plane on this data directory may have started the set since this one began.
            var living = AdoptionRecord.Living(recordFolder, owner).Where(r => r.SetId == spec.SetId && r.Runtime == (launcher?.Kind ?? Core.Manifest.ProcessSpec.RuntimeKind)).ToList();
            if (living.Count > 0)
            {
                unclaimed[spec.SetId] = living;
            }
        }

        if (!unclaimed.Remove(spec.SetId, out var records))
        {
            return;
        }

        var taken = new List<ManagedInstance>();
        foreach (var record in records)
        {
            if (record.Version != spec.Version || instances.Exists(i => i.Index == record.Index) || taken.Exists(i => i.Index == record.Index))
            {
                await StopRecordedAsync(record, ct);
                continue;
            }

            taken.Add(new ManagedInstance(spec, record.Index, Options, record));
        }

        // Checked together: a set's first table waits for the slowest of its instances, not for their sum.
        await Task.WhenAll(taken.Select(i => i.CheckAdoptedAsync(ct)));
        foreach (var instance in taken)
        {
            instance.Start();
            instances.Add(instance);
            Adopted++;
        }
    }

    /// <summary>
    /// What the launcher kept of this set (a retained release): kept running (warm), taken back like an adopted
    /// instance; stopped, started again on its old port so the container is started rather than created.
    /// </summary>
    private async Task ResumeRetainedAsync(InstanceSetSpec spec, List<ManagedInstance> instances, CancellationToken ct)
    {
        if (launcher is null)
        {
            return;
        }

        foreach (var kept in (await launcher.RetainedAsync(spec, ct)).Where(k => k.Index < spec.Replicas && instances.TrueForAll(i => i.Index != k.Index)))
        {
            var record = kept.Running is { } running
                ? new AdoptionRecord(kept.Id, spec.Service.Name, spec.Environment, spec.Key, spec.Version, kept.Index, kept.Port, running.Pid, running.StartTime, 0, launcher.Kind)
                : null;
            var instance = new ManagedInstance(spec, kept.Index, Options, record, kept.Port);
            if (record is not null)
            {
                await instance.CheckAdoptedAsync(ct);
            }

            instance.Start();
            instances.Add(instance);
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

    public IReadOnlyList<InstanceStatus> Observe(TargetId target)
    {
        gate.Wait();
        try
        {
            return [.. sets.Where(s => s.Key.BelongsTo(target)).SelectMany(s => s.Value).Select(i => i.Status)
                .Concat(unclaimed.Where(r => r.Key.BelongsTo(target)).SelectMany(r => r.Value).Select(Unclaimed))];
        }
        finally
        {
            gate.Release();
        }
    }

    private static InstanceStatus Unclaimed(AdoptionRecord r) =>
        new(r.Id, r.SetId, r.Version, new Core.Manifest.Values.Endpoint("127.0.0.1", r.Port), InstancePhase.NotReady, r.Restarts, r.Pid, "left by the previous control plane; no rollout has claimed it", r.Index);

    /// <summary>A running instance's CPU and memory as its engine reads them, with the CPU limit of its section.</summary>
    public async Task<InstanceUsage?> UsageAsync(string instanceId, CancellationToken ct)
    {
        ManagedInstance? instance;
        await gate.WaitAsync(ct);
        try
        {
            instance = sets.Values.SelectMany(s => s).FirstOrDefault(i => i.Id == instanceId && i.Status.ProcessId is not null);
        }
        finally
        {
            gate.Release();
        }

        return launcher is null || instance is null || await launcher.UsageAsync(instanceId, ct) is not { } usage
            ? null
            : usage with { CpuLimit = (instance.Spec.Service.Runtime as Core.Manifest.DockerSpec)?.Cpus };
    }

    /// <summary>An instance's last lines: found under the gate, read outside it (an engine's answer never holds up the runtime).</summary>
    public async Task<IReadOnlyList<string>> LogsAsync(string instanceId, CancellationToken ct)
    {
        ManagedInstance? instance;
        bool unclaimedOne;
        await gate.WaitAsync(ct);
        try
        {
            instance = sets.Values.SelectMany(s => s).FirstOrDefault(i => i.Id == instanceId);
            unclaimedOne = unclaimed.Values.SelectMany(r => r).Any(r => r.Id == instanceId);
        }
        finally
        {
            gate.Release();
        }

        return instance is not null ? await instance.LogsAsync(ct)
            : logDirectory is not null && unclaimedOne ? LogTail.Read(Path.Combine(logDirectory, instanceId + ".log"), 1000)
            : [];
    }

    /// <summary>Attached: stops every instance. Detached (or launched into an engine and recorded): stops supervising and leaves them serving for the next control plane.</summary>
    public async Task ReleaseAsync(CancellationToken ct)
    {
        if (!Options.Outlives)
        {
            return;
        }

        await gate.WaitAsync(ct);
        try
        {
            await Task.WhenAll(sets.Values.SelectMany(s => s).Select(i => i.ReleaseAsync().AsTask()));
            sets.Clear();
            unclaimed.Clear();
        }
        finally
        {
            gate.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await gate.WaitAsync(CancellationToken.None);
        try
        {
            if (disposed)
            {
                return;
            }

            disposed = true;
        }
        finally
        {
            gate.Release();
        }

        if (Options.Outlives)
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

        // Stops still under way (their callers no longer wait): the instances go before the runtime does.
        Task[] inFlight;
        await gate.WaitAsync(CancellationToken.None);
        try
        {
            inFlight = [.. stopping.Values];
        }
        finally
        {
            gate.Release();
        }

        await Task.WhenAll(inFlight);
        await RetirementsAsync();

        // The gate is not disposed: a caller still waiting for it (a scale-down in the background) then finds the runtime disposed.
        (launcher as IDisposable)?.Dispose();
    }
}
