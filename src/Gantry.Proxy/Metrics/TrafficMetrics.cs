namespace Gantry.Proxy.Metrics;

/// <summary>A window's summary of one series: counts, error rate and latency percentiles.</summary>
public sealed record TrafficSnapshot(long Requests, long Errors5xx, long Errors4xx, long Failures, double P50, double P90, double P95, double P99)
{
    /// <summary>5xx answers and upstream failures over all requests; NaN with no requests.</summary>
    public double ErrorRate => Requests == 0 ? double.NaN : (double)(Errors5xx + Failures) / Requests;
}

/// <summary>
/// Counters and latencies of one series (a route, a group or an instance): totals since start for
/// Prometheus, and per-second slots for percentiles over a sliding window of up to 60 seconds.
/// </summary>
public sealed class TrafficMetrics
{
    public const int WindowSeconds = 60;

    /// <summary>How many of the most recent latencies are kept as raw samples for the statistical judge.</summary>
    public const int SampleCount = 2048;

    private readonly TimeProvider time;
    private readonly long origin;
    private readonly Slot[] slots = new Slot[WindowSeconds + 1];
    private readonly LatencyHistogram total = new();
    private long requests;
    private long bytesIn;
    private long bytesOut;
    private readonly long[] byClass = new long[6];
    private long failures;
    private readonly long[] samples = new long[SampleCount];
    private readonly long[] sampleSequence = new long[SampleCount];
    private long sampleNext = -1;

    public TrafficMetrics(TimeProvider time)
    {
        this.time = time;

        // Seconds count from the series' creation: they fit in the 31 bits a kept sample has for them, whatever
        // the clock's timestamps start from (a fake clock's may be ticks since year 1).
        origin = time.GetTimestamp();
        for (var i = 0; i < slots.Length; i++)
        {
            slots[i] = new Slot();
        }

        Array.Fill(sampleSequence, -1);
    }

    public long Requests => Volatile.Read(ref requests);

    public long Failures => Volatile.Read(ref failures);

    public long BytesIn => Volatile.Read(ref bytesIn);

    public long BytesOut => Volatile.Read(ref bytesOut);

    public LatencyHistogram Total => total;

    /// <summary>Answers by status class: index 1 for 1xx ... 5 for 5xx.</summary>
    public long ByClass(int statusClass) => Volatile.Read(ref byClass[statusClass]);

    private long NowSecond => (long)((time.GetTimestamp() - origin) / (double)time.TimestampFrequency);

    /// <summary>
    /// The first whole second that overlaps the last <paramref name="window"/> (1 s to 60 s): the seconds from it to
    /// the current one hold at least the whole window and at most a second more. Counting only the seconds that
    /// began within the window would leave a 1 s window read early in a second with almost nothing in it.
    /// </summary>
    private static long FirstSecondOf(TimeSpan window, long now) => now - Math.Clamp((long)Math.Ceiling(window.TotalSeconds), 1, WindowSeconds);

    /// <summary>Records one request. <paramref name="status"/> 0 means it failed before any answer (a failure).</summary>
    public void Record(int status, long micros, long requestBytes, long responseBytes)
    {
        Interlocked.Increment(ref requests);
        Interlocked.Add(ref bytesIn, requestBytes);
        Interlocked.Add(ref bytesOut, responseBytes);
        if (status is >= 100 and < 600)
        {
            Interlocked.Increment(ref byClass[status / 100]);
        }
        else
        {
            Interlocked.Increment(ref failures);
        }

        total.Record(micros);
        var second = NowSecond;

        // The second (high half) and the latency (low half) of the most recent requests, overwritten in turn.
        var sequence = Interlocked.Increment(ref sampleNext);
        var at = sequence & (SampleCount - 1);
        Volatile.Write(ref samples[at], ((second + 1) << 32) | Math.Clamp(micros, 0, uint.MaxValue));
        Volatile.Write(ref sampleSequence[at], sequence);
        var slot = slots[(int)(second % slots.Length)];
        slot.Enter(second);
        slot.Histogram.Record(micros);
        Interlocked.Increment(ref slot.Requests);
        if (status >= 500 || status == 0)
        {
            Interlocked.Increment(ref status >= 500 ? ref slot.Errors5xx : ref slot.Failures);
        }
        else if (status >= 400)
        {
            Interlocked.Increment(ref slot.Errors4xx);
        }
    }

    /// <summary>Raw latencies (seconds) of the most recent requests (up to <see cref="SampleCount"/>) in the seconds that overlap the last <paramref name="window"/>.</summary>
    public IReadOnlyList<double> Samples(TimeSpan window)
    {
        var now = NowSecond;
        var first = FirstSecondOf(window, now);
        var list = new List<double>();
        for (var i = 0; i < samples.Length; i++)
        {
            var value = Volatile.Read(ref samples[i]);
            var second = (value >> 32) - 1;
            if (value != 0 && second <= now && second >= first)
            {
                list.Add((value & uint.MaxValue) / 1_000_000.0);
            }
        }

        return list;
    }

    /// <summary>The last whole second: what an incremental reader may take without missing requests still to come in it.</summary>
    public long CompletedSecond => NowSecond - 1;

    /// <summary>
    /// Raw latencies (seconds) of the samples numbered after <paramref name="after"/> that are still kept (the last
    /// <see cref="SampleCount"/>), and the number to ask after next time: each request at most once, however busy
    /// the series (at 10,000 requests a second the kept samples span a fifth of a second). <paramref name="within"/>
    /// keeps only the samples of that last stretch of time (a first read, with nothing to ask after).
    /// </summary>
    public IReadOnlyList<double> SamplesAfter(long after, out long through, TimeSpan? within = null)
    {
        through = Volatile.Read(ref sampleNext);
        var since = within is { } w ? FirstSecondOf(w, NowSecond) - 1 : long.MinValue;
        var list = new List<double>();
        for (var i = 0; i < samples.Length; i++)
        {
            var sequence = Volatile.Read(ref sampleSequence[i]);
            if (sequence > after && sequence <= through)
            {
                var value = Volatile.Read(ref samples[i]);
                if (Volatile.Read(ref sampleSequence[i]) == sequence && (value >> 32) - 1 > since)
                {
                    list.Add((value & uint.MaxValue) / 1_000_000.0);
                }
            }
        }

        return list;
    }

    /// <summary>Counts and percentiles of the seconds after <paramref name="after"/> up to <paramref name="through"/> (at most the last 60).</summary>
    public TrafficSnapshot ReadBetween(long after, long through) => Read(Math.Max(after, NowSecond - WindowSeconds), through);

    /// <summary>The seconds that overlap the last <paramref name="window"/> (1 s to 60 s), the current one included.</summary>
    public TrafficSnapshot Read(TimeSpan window)
    {
        var now = NowSecond;
        return Read(FirstSecondOf(window, now) - 1, now);
    }

    private TrafficSnapshot Read(long after, long through)
    {
        var counts = new long[LatencyHistogram.BucketCount];
        long n = 0, e5 = 0, e4 = 0, f = 0;
        foreach (var slot in slots)
        {
            var s = Volatile.Read(ref slot.Second);
            if (s <= through && s > after)
            {
                slot.Histogram.AddTo(counts);
                n += Volatile.Read(ref slot.Requests);
                e5 += Volatile.Read(ref slot.Errors5xx);
                e4 += Volatile.Read(ref slot.Errors4xx);
                f += Volatile.Read(ref slot.Failures);
            }
        }

        return new TrafficSnapshot(n, e5, e4, f,
            LatencyHistogram.Percentile(counts, 50), LatencyHistogram.Percentile(counts, 90),
            LatencyHistogram.Percentile(counts, 95), LatencyHistogram.Percentile(counts, 99));
    }

    private sealed class Slot
    {
        public readonly LatencyHistogram Histogram = new();
        public long Second = -1;
        public long Requests;
        public long Errors5xx;
        public long Errors4xx;
        public long Failures;
        private readonly Lock gate = new();

        /// <summary>Resets the slot when it comes round to a new second.</summary>
        public void Enter(long second)
        {
            if (Volatile.Read(ref Second) == second)
            {
                return;
            }

            lock (gate)
            {
                if (Second != second)
                {
                    Histogram.Clear();
                    Requests = 0;
                    Errors5xx = 0;
                    Errors4xx = 0;
                    Failures = 0;
                    Volatile.Write(ref Second, second);
                }
            }
        }
    }
}
