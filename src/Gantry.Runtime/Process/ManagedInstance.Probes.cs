using Gantry.Core.Manifest;
using Gantry.Runtime.Probes;

namespace Gantry.Runtime.Process;

/// <summary>An instance's probes: made when due, by the process's probe loop where it can.</summary>
internal sealed partial class ManagedInstance
{
    /// <summary>
    /// Makes <paramref name="probe"/> at <paramref name="due"/> (a timestamp of the instance's clock): its result, or
    /// null when the process's end, or a look at it, came first. With its end told by its pidfd the probe is handed
    /// to the probe loop at once, which starts it when due, so no timer of this instance's wakes the control plane
    /// between probes (bench/README, "Probes on one thread"). Otherwise it sleeps until due: without a pidfd a child's
    /// exit wakes it, but a child whose output this process reads counts as ended only once something it started that
    /// kept its output ends too, hence a look at least every second; a process known by pid only is looked at every
    /// 250 ms.
    /// </summary>
    private async Task<bool?> ProbeWhenDueAsync(ProbeSpec? probe, long due, Task? exited, bool told, CancellationToken ct)
    {
        if (probe is not null && exited is not null && told)
        {
            var probing = HttpFor(probe).PassesAtAsync(due, probe.Timeout, time, ct);
            return await Task.WhenAny(exited, probing) == probing ? await probing : null;
        }

        if (probe is not null && time.GetTimestamp() >= due)
        {
            return await ProbeAsync(probe, ct);
        }

        var wait = due == long.MaxValue ? Timeout.InfiniteTimeSpan : TimeSpan.FromSeconds(Math.Max(0, due - time.GetTimestamp()) / (double)time.TimestampFrequency);
        var cap = exited is null ? PidPoll : told ? Timeout.InfiniteTimeSpan : ChildPoll;
        if (cap != Timeout.InfiniteTimeSpan && (wait == Timeout.InfiniteTimeSpan || wait > cap))
        {
            wait = cap;
        }

        var delay = Task.Delay(wait, time, ct);
        await (exited is null ? delay : Task.WhenAny(exited, delay));
        return null; // the loop looks at the process before it probes
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
