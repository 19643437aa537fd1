namespace Shop;

/// <summary>
/// Decides, per application request, whether to fail and how long to wait. Thread-safe. With
/// <see cref="FaultSettings.FaultAfterSeconds"/>, errors and delays begin only that long after the start: a release
/// that turns bad after it was promoted.
/// </summary>
public sealed class FaultInjector
{
    private readonly FaultSettings settings;
    private readonly Random random;
    private readonly Lock gate = new();
    private readonly TimeProvider time;
    private readonly long started;
    private long requests;

    public FaultInjector(FaultSettings settings, TimeProvider? time = null)
    {
        this.settings = settings;
        this.time = time ?? TimeProvider.System;
        started = this.time.GetTimestamp();
        random = settings.Seed is { } seed ? new Random(seed) : new Random();
    }

    /// <summary>Whether the faults apply yet.</summary>
    private bool Active => settings.FaultAfterSeconds is not { } after || time.GetElapsedTime(started).TotalSeconds >= after;

    /// <summary>Counts a request; returns its 1-based number.</summary>
    public long Count() => Interlocked.Increment(ref requests);

    public bool ShouldFail()
    {
        if (settings.ErrorRate <= 0 || !Active)
        {
            return false;
        }

        lock (gate)
        {
            return random.NextDouble() < settings.ErrorRate;
        }
    }

    public TimeSpan Delay()
    {
        if ((settings.LatencyMs == 0 && settings.LatencyJitterMs == 0 && settings.SpikeRate <= 0) || !Active)
        {
            return TimeSpan.Zero;
        }

        int jitter;
        bool spike;
        lock (gate)
        {
            jitter = settings.LatencyJitterMs == 0 ? 0 : random.Next(-settings.LatencyJitterMs, settings.LatencyJitterMs + 1);
            spike = settings.SpikeRate > 0 && random.NextDouble() < settings.SpikeRate;
        }

        // A rare large spike: a share of requests waits FAULT_SPIKE_MS more.
        return TimeSpan.FromMilliseconds(Math.Max(0, settings.LatencyMs + jitter) + (spike ? settings.SpikeMs : 0));
    }

    public bool IsLastBeforeCrash(long number) => settings.CrashAfterRequests is { } n && number == n;
}
