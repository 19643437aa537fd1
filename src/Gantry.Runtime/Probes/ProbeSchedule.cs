namespace Gantry.Runtime.Probes;

/// <summary>
/// When an instance's next probe is due: one interval on, then up to the next mark of a grid shared by every
/// instance with that interval. The grid divides the interval into at least four equal steps of at most 500 ms
/// (2 s: four steps of 500 ms; 10 s: twenty), so an instance that keeps passing is probed exactly every interval, on
/// the grid, and instances whose probes fall due within one step are probed together: the control plane wakes once
/// for several of them. On a machine where a thread's wake-up costs more than the probe's own exchange, that is most
/// of what probing costs at rest (bench/README, "Probes that wake together", "A coarser probe grid"). Only the first
/// repeat after a start is late, by less than a step; a whole interval's instances are not probed at one moment.
/// </summary>
public static class ProbeSchedule
{
    private static readonly TimeSpan LargestStep = TimeSpan.FromMilliseconds(500);
    private const int FewestSteps = 4;

    /// <summary>The grid step for a probe interval, in timestamp ticks of <paramref name="frequency"/> per second (at least one tick).</summary>
    public static long Step(TimeSpan interval, long frequency)
    {
        var ticks = Ticks(interval, frequency);
        return Math.Max(1, ticks / Steps(interval));
    }

    /// <summary>The timestamp when the next probe is due, the last one having started at <paramref name="now"/>.</summary>
    public static long Next(long now, TimeSpan interval, long frequency)
    {
        var ticks = Ticks(interval, frequency);
        var due = now + ticks;
        var step = Step(interval, frequency);
        var past = due % step;
        // An interval that is not a whole number of ticks' steps leaves a remainder of fewer ticks than there are
        // steps: a probe on the grid whose next mark is that close is on the grid (never a whole step late).
        var remainder = ticks % step;
        return past <= remainder ? due - past : due + (step - past);
    }

    /// <summary>The first wait of a fresh instance's readiness probe after a failure; it doubles with every failure.</summary>
    public static readonly TimeSpan FirstRetry = TimeSpan.FromMilliseconds(50);

    /// <summary>
    /// When the readiness probe of an instance that has not passed it yet is due again after its
    /// <paramref name="failures"/>-th failure (the last one started at <paramref name="now"/>): <see cref="FirstRetry"/>,
    /// doubling, and never later than <see cref="Next"/>. A release is seen ready within moments of answering rather
    /// than up to an interval later (as Docker's health check start interval does), at the cost of a few refused
    /// connections while it starts.
    /// </summary>
    public static long NextWhileStarting(long now, int failures, TimeSpan interval, long frequency)
    {
        var regular = Next(now, interval, frequency);
        var retry = FirstRetry * Math.Pow(2, Math.Clamp(failures - 1, 0, 30));
        return retry >= interval ? regular : Math.Min(regular, now + Ticks(retry, frequency));
    }

    private static long Ticks(TimeSpan interval, long frequency) => (long)(interval.TotalSeconds * frequency);

    private static int Steps(TimeSpan interval) =>
        Math.Max(FewestSteps, (int)Math.Min(int.MaxValue, Math.Ceiling(interval / LargestStep)));
}
