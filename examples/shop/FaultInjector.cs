namespace Shop;

/// <summary>Decides, per application request, whether to fail and how long to wait. Thread-safe.</summary>
public sealed class FaultInjector
{
    private readonly FaultSettings settings;
    private readonly Random random;
    private readonly Lock gate = new();
    private long requests;

    public FaultInjector(FaultSettings settings)
    {
        this.settings = settings;
        random = settings.Seed is { } seed ? new Random(seed) : new Random();
    }

    /// <summary>Counts a request; returns its 1-based number.</summary>
    public long Count() => Interlocked.Increment(ref requests);

    public bool ShouldFail()
    {
        if (settings.ErrorRate <= 0)
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
        if (settings.LatencyMs == 0 && settings.LatencyJitterMs == 0 && settings.SpikeRate <= 0)
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
