using Gantry.Core.Manifest;
using Gantry.Core.Runtime;
using Gantry.Runtime.Probes;

namespace Gantry.Runtime.Process;

/// <summary>An instance's probes: made when due, by the process's probe loop where it can.</summary>
internal sealed partial class ManagedInstance
{
    /// <summary>
    /// Makes <paramref name="probe"/> at <paramref name="due"/> (a timestamp of the instance's clock) for a process
    /// whose end is not told at once (that one is watched by <see cref="WatchHealthAsync"/>): its result, or null when
    /// a look at the process came first. It sleeps until due: without a pidfd a child's exit wakes it, but a child
    /// whose output this process reads counts as ended only once something it started that kept its output ends
    /// too, hence a look at least every second; a process known by pid only is looked at every 250 ms.
    /// </summary>
    private async Task<bool?> ProbeWhenDueAsync(ProbeSpec? probe, long due, Task? exited, CancellationToken ct)
    {
        if (probe is not null && time.GetTimestamp() >= due)
        {
            return await ProbeAsync(probe, ct);
        }

        var wait = due == long.MaxValue ? Timeout.InfiniteTimeSpan : TimeSpan.FromSeconds(Math.Max(0, due - time.GetTimestamp()) / (double)time.TimestampFrequency);
        var cap = exited is null ? PidPoll : ChildPoll;
        if (wait == Timeout.InfiniteTimeSpan || wait > cap)
        {
            wait = cap;
        }

        var delay = Task.Delay(wait, time, ct);
        await (exited is null ? delay : Task.WhenAny(exited, delay));
        return null; // the loop looks at the process before it probes
    }

    /// <summary>
    /// Readiness and liveness of a process whose end is told at once (its pidfd): each probe is handed over with the
    /// result it is expected to keep (passing, once it passed) and is made again every interval by the probe loop
    /// without waking this supervisor; only a result that differs comes back, to be counted against the probe's
    /// failure threshold one probe at a time until it passes again. Returns when the process ended or failed its
    /// liveness probe (then killed).
    /// </summary>
    private async Task WatchHealthAsync(InstanceProcess started, Task exited, long nextReadiness, long nextLiveness, CancellationToken ct)
    {
        var health = spec.Service.Health;
        using var life = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var stopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var stopping = ct.UnsafeRegister(static s => ((TaskCompletionSource)s!).TrySetResult(), stopped);
        Task<ProbeResult>? readiness = null;
        Task<ProbeResult>? liveness = null;
        var readinessFailures = 0;
        var livenessFailures = 0;
        var starting = phase != InstancePhase.Ready;
        try
        {
            while (!ct.IsCancellationRequested)
            {
                if (started.HasExited)
                {
                    Fail(await started.ExitAsync(time, ct));
                    return;
                }

                if (health.Readiness is { } r)
                {
                    readiness ??= HttpFor(r).WatchAsync(nextReadiness, r.Interval, r.Timeout, phase == InstancePhase.Ready && readinessFailures == 0 ? true : null, time, life.Token);
                }

                if (health.Liveness is { } l)
                {
                    liveness ??= HttpFor(l).WatchAsync(nextLiveness, l.Interval, l.Timeout, livenessFailures == 0 ? true : null, time, life.Token);
                }

                var done = await Task.WhenAny(new[] { exited, stopped.Task, readiness, liveness }.OfType<Task>());
                ct.ThrowIfCancellationRequested();
                if (done == readiness)
                {
                    var (passed, at) = await readiness;
                    readiness = null;
                    readinessFailures = passed ? 0 : readinessFailures + 1;
                    nextReadiness = starting && !passed
                        ? ProbeSchedule.NextWhileStarting(at, readinessFailures, health.Readiness!.Interval, time.TimestampFrequency)
                        : ProbeSchedule.Next(at, health.Readiness!.Interval, time.TimestampFrequency);
                    if (passed)
                    {
                        starting = false;
                        SetPhase(InstancePhase.Ready);
                    }
                    else if (readinessFailures >= health.Readiness.FailureThreshold || phase == InstancePhase.Starting)
                    {
                        SetPhase(InstancePhase.NotReady);
                    }
                }
                else if (done == liveness)
                {
                    var (passed, at) = await liveness;
                    liveness = null;
                    nextLiveness = ProbeSchedule.Next(at, health.Liveness!.Interval, time.TimestampFrequency);
                    livenessFailures = passed ? 0 : livenessFailures + 1;
                    if (livenessFailures >= health.Liveness.FailureThreshold)
                    {
                        Fail($"liveness probe {health.Liveness.Path} failed {livenessFailures} times in a row");
                        await KillAsync(started);
                        return;
                    }
                }
            }
        }
        finally
        {
            // The probes still handed over are given back (never made) before the next life starts its own.
            await life.CancelAsync();
            foreach (var left in new[] { readiness, liveness }.OfType<Task>())
            {
                await left.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    private long Ticks(TimeSpan span) => (long)(span.TotalSeconds * time.TimestampFrequency);

    private async Task<bool> UntilPassesAsync(InstanceProcess started, ProbeSpec probe, CancellationToken ct)
    {
        await Task.Delay(probe.InitialDelay, time, ct);
        for (var failures = 0; failures < probe.FailureThreshold && !started.HasExited; failures++)
        {
            if (await ProbeAsync(probe, ct))
            {
                return true;
            }

            await Task.Delay(probe.Interval, time, ct);
        }

        return false;
    }

    /// <summary>The probe of one path, made once per instance.</summary>
    private HttpProbe HttpFor(ProbeSpec probe)
    {
        lock (gate)
        {
            if (!probes.TryGetValue(probe.Path, out var http))
            {
                probes[probe.Path] = http = new HttpProbe(Address.Host, Address.Port, probe.Path);
            }

            return http;
        }
    }

    private async Task<bool> ProbeAsync(ProbeSpec probe, CancellationToken ct)
    {
        var http = HttpFor(probe);
        using var timeout = new CancellationTokenSource(probe.Timeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, timeout.Token);
        try
        {
            return await http.PassesAsync(linked.Token);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return false;
        }
    }
}
