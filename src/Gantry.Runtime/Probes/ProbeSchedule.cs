namespace Gantry.Runtime.Probes;

/// <summary>
/// When an instance's next probe is due: one interval on, then up to the next mark of a grid shared by every
/// instance (a tenth of the interval, at most 100 ms). Instances whose probes fall due within one grid step are
/// probed together, so the control plane wakes once for several of them: on a machine where a thread's wake-up
/// costs more than the probe's own exchange, that is most of what probing costs at rest (bench/README, "Probes
/// that wake together"). A probe is late by less than a tenth of its interval.
/// </summary>
public static class ProbeSchedule
{
    private static readonly TimeSpan LargestStep = TimeSpan.FromMilliseconds(100);

    /// <summary>The grid step for a probe interval, in timestamp ticks of <paramref name="frequency"/> per second (at least one tick).</summary>
    public static long Step(TimeSpan interval, long frequency)
    {
        var step = interval / 10 < LargestStep ? interval / 10 : LargestStep;
        return Math.Max(1, (long)(step.TotalSeconds * frequency));
    }

    /// <summary>The timestamp when the next probe is due, the last one having started at <paramref name="now"/>.</summary>
    public static long Next(long now, TimeSpan interval, long frequency)
    {
        var due = now + (long)(interval.TotalSeconds * frequency);
        var step = Step(interval, frequency);
        var past = due % step;
        return past == 0 ? due : due + (step - past);
    }
}
