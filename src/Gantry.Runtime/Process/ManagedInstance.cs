using Gantry.Core.Manifest.Values;
using Gantry.Core.Runtime;
using Gantry.Runtime.Probes;

namespace Gantry.Runtime.Process;

/// <summary>
/// One supervised instance: starts its process, probes it (startup, then readiness and liveness),
/// restarts it with back-off when it exits or fails liveness, and stops it gracefully.
/// The instance keeps its port across restarts, so its address never changes.
/// </summary>
internal sealed partial class ManagedInstance : IAsyncDisposable
{
    private const int LogLines = 1000;
    private static readonly TimeSpan MaxBackOff = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan PidPoll = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan ChildPoll = TimeSpan.FromSeconds(1);

    private readonly InstanceSetSpec spec;
    private readonly TimeProvider time;
    private readonly Dictionary<string, HttpProbe> probes = new(StringComparer.Ordinal);
    private readonly StreamWriter? logFile;
    private readonly Queue<string> log = new();
    private readonly Lock gate = new();
    private readonly CancellationTokenSource stopping = new();
    private readonly InstanceOptions options;
    private readonly PortLease port;
    private InstanceProcess? process;
    private InstanceProcess? adopted;
    private Task? supervisor;
    private volatile InstancePhase phase = InstancePhase.Starting;
    private int restarts;
    private string? lastError;

    /// <summary>A new instance of the set (on <paramref name="port"/> when free: a retained release's), or (with <paramref name="record"/>) one a previous control plane started, taken back as it runs.</summary>
    public ManagedInstance(InstanceSetSpec spec, int index, InstanceOptions options, AdoptionRecord? record = null, int? port = null)
    {
        this.options = options;
        this.spec = spec;
        time = options.Time;
        Index = record?.Index ?? index;
        Id = $"{spec.Service.Name}-{spec.Environment}-{spec.Key}-{Index}";
        this.port = record is not null ? LoopbackPorts.Claim(record.Port) : (port is { } p ? LoopbackPorts.LeaseIfFree(p) : null) ?? LoopbackPorts.Lease();
        Address = new Endpoint("127.0.0.1", this.port.Port);
        if (record is not null)
        {
            adopted = InstanceProcess.Adopt(record);
            process = adopted;
            restarts = record.Restarts;
        }

        // One file per instance, appended across restarts. A detached instance writes it itself (its output must not
        // depend on a pipe to this process); otherwise it is opened once here and flushed line by line.
        logFile = options.LogDirectory is null || options.Detached ? null : new StreamWriter(LogPath!, append: true) { AutoFlush = true };
    }

    private string? LogPath => options.LogDirectory is null ? null : Path.Combine(options.LogDirectory, Id + ".log");

    public string Id { get; }

    public int Index { get; }

    public InstanceSetSpec Spec => spec;

    public Endpoint Address { get; }

    public InstanceStatus Status
    {
        get
        {
            lock (gate)
            {
                return new InstanceStatus(Id, spec.SetId, spec.Version, Address, phase, restarts, process is { ExitSeen: false } p ? p.Id : null, lastError, Index);
            }
        }
    }

    /// <summary>
    /// An adopted instance is checked before the first table of a restarted control plane: it was serving, so it stays
    /// in traffic unless its readiness probe fails <c>failureThreshold</c> times in a row (as a running instance's
    /// readiness changes), not on one slow answer from a busy machine.
    /// </summary>
    public async Task CheckAdoptedAsync(CancellationToken ct)
    {
        var ready = adopted is { } process && (spec.Service.Health.Readiness is not { } readiness || await UntilPassesAsync(process, readiness with { InitialDelay = TimeSpan.Zero }, ct));
        SetPhase(adopted is { HasExited: false } && ready ? InstancePhase.Ready : InstancePhase.NotReady);
    }

    public void Start() => supervisor = Task.Run(() => SuperviseAsync(stopping.Token));

    private async Task SuperviseAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await RunOnceAsync(ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (InstanceCannotStartException cannot)
            {
                lock (gate)
                {
                    phase = InstancePhase.Failed;
                    lastError = cannot.Message;
                }

                options.Changed();

                return;
            }
            catch (Exception ex) when (ex is InvalidOperationException or System.ComponentModel.Win32Exception or IOException)
            {
                Fail("could not start: " + ex.Message);
            }

            if (ct.IsCancellationRequested)
            {
                return;
            }

            // Crashed: wait 1 s, 2 s, 4 s ... up to 30 s, then start again.
            var backOff = TimeSpan.FromSeconds(Math.Min(MaxBackOff.TotalSeconds, Math.Pow(2, Math.Max(0, restarts - 1))));
            await Task.Delay(backOff, time, ct);
            lock (gate)
            {
                restarts++;
            }

            options.Changed();
        }
    }

    /// <summary>One life of the process: start (or the adopted process), startup probe, then readiness and liveness until it dies or is stopped.</summary>
    private async Task RunOnceAsync(CancellationToken ct)
    {
        var taken = adopted;
        adopted = null;
        var started = taken ?? (options.Launcher is { } launcher ? await LaunchAsync(launcher, ct) : await StartProcessAsync(ct));
        var health = spec.Service.Health;
        if (taken is null)
        {
            SetPhase(InstancePhase.Starting);
        }

        if (taken is null && health.Startup is { } startup && !await UntilPassesAsync(started, startup, ct))
        {
            // Gone while starting (a crash, an out-of-memory kill): how it ended says more than the probe.
            Fail(started.HasExited ? await started.ExitAsync(time, ct) : $"startup probe {startup.Path} did not pass");
            await KillAsync(started);
            return;
        }

        // Its end is awaited (its pidfd; a child's exit), not polled, where the system can tell it.
        var exited = started.Ended(ct);
        var readinessFailures = 0;
        var livenessFailures = 0;
        var starting = taken is null;
        var nextReadiness = time.GetTimestamp();
        var nextLiveness = time.GetTimestamp() + Ticks(health.Liveness?.InitialDelay ?? TimeSpan.Zero);
        if (health.Readiness is null)
        {
            SetPhase(InstancePhase.Ready);
        }
        else if (taken is null)
        {
            await Task.Delay(health.Readiness.InitialDelay, time, ct);
        }

        if (exited is not null && started.EndTold)
        {
            // Its end is told at once: the probes run on their own until a result changes.
            await WatchHealthAsync(started, exited, nextReadiness, nextLiveness, ct);
            return;
        }

        while (!ct.IsCancellationRequested)
        {
            if (started.HasExited)
            {
                Fail(await started.ExitAsync(time, ct));
                return;
            }

            // The probe due first (readiness on a tie), made when due; null when something else woke this loop.
            var readinessNext = health.Readiness is not null && (health.Liveness is null || nextReadiness <= nextLiveness);
            var probe = readinessNext ? health.Readiness : health.Liveness;
            var due = probe is null ? long.MaxValue : readinessNext ? nextReadiness : nextLiveness;
            var startedAt = Math.Max(due, time.GetTimestamp());
            if (await ProbeWhenDueAsync(probe, due, exited, ct) is not { } passed)
            {
                continue;
            }

            if (readinessNext)
            {
                readinessFailures = passed ? 0 : readinessFailures + 1;
                nextReadiness = starting && !passed
                    ? ProbeSchedule.NextWhileStarting(startedAt, readinessFailures, probe!.Interval, time.TimestampFrequency)
                    : ProbeSchedule.Next(startedAt, probe!.Interval, time.TimestampFrequency);
                if (passed)
                {
                    starting = false;
                    SetPhase(InstancePhase.Ready);
                }
                else if (readinessFailures >= probe.FailureThreshold || phase == InstancePhase.Starting)
                {
                    SetPhase(InstancePhase.NotReady);
                }
            }
            else
            {
                nextLiveness = ProbeSchedule.Next(startedAt, probe!.Interval, time.TimestampFrequency);
                livenessFailures = passed ? 0 : livenessFailures + 1;
                if (livenessFailures >= probe.FailureThreshold)
                {
                    Fail($"liveness probe {probe.Path} failed {livenessFailures} times in a row");
                    await KillAsync(started);
                    return;
                }
            }
        }
    }

    private void SetPhase(InstancePhase value)
    {
        lock (gate)
        {
            if (phase == value)
            {
                return;
            }

            phase = value;
        }

        options.Changed();
    }

    private void Fail(string error)
    {
        lock (gate)
        {
            phase = InstancePhase.Crashed;
            lastError = error;
        }

        options.Changed();
    }

    /// <summary>SIGTERM, up to stopTimeout for it to exit, then SIGKILL to the whole tree.</summary>
    private async Task KillAsync(InstanceProcess target)
    {
        if (target.HasExited)
        {
            return;
        }

        target.Signal(target.StopSignal);
        using var wait = new CancellationTokenSource(spec.Service.Runtime.StopTimeout, time);
        try
        {
            await target.WaitForExitAsync(time, wait.Token);
        }
        catch (OperationCanceledException)
        {
            target.KillTree();
            using var gone = new CancellationTokenSource(TimeSpan.FromSeconds(5), time);
            await target.WaitForExitAsync(time, gone.Token);
        }
    }

    /// <summary>Stops supervising and leaves the process running for the next control plane to adopt (its record stays unless <paramref name="forget"/>: a warm retained release, found again by its engine).</summary>
    public async ValueTask ReleaseAsync(bool forget = false)
    {
        await StopSupervisingAsync();
        if (forget && options.RecordFolder is { } records)
        {
            File.Delete(AdoptionRecord.PathOf(records, Id));
        }

        lock (gate)
        {
            process?.Dispose();
        }

        port.Dispose();
        stopping.Dispose();
    }

    private async Task StopSupervisingAsync()
    {
        await stopping.CancelAsync();
        if (supervisor is not null)
        {
            try
            {
                await supervisor;
            }
            catch (OperationCanceledException)
            {
                // Stopped while waiting.
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await stopping.CancelAsync();
        if (supervisor is not null)
        {
            try
            {
                await supervisor;
            }
            catch (OperationCanceledException)
            {
                // Stopped while waiting.
            }
        }

        InstanceProcess? current;
        lock (gate)
        {
            current = process;
        }

        if (current is not null)
        {
            await KillAsync(current);
            current.Dispose();
        }

        if (options.RecordFolder is { } records)
        {
            File.Delete(AdoptionRecord.PathOf(records, Id));
        }

        if (options.Launcher is { } launcher)
        {
            await launcher.StoppedAsync(spec, Id, CancellationToken.None);
        }

        SetPhase(InstancePhase.Stopped);
        lock (gate)
        {
            logFile?.Dispose();
        }

        port.Dispose();

        stopping.Dispose();
    }
}
