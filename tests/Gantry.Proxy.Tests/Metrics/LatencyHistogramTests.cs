using Gantry.Proxy.Metrics;
using Gantry.Testing;

namespace Gantry.Proxy.Tests.Metrics;

public sealed class LatencyHistogramTests
{
    [Fact(Timeout = 10_000)]
    public void Percentile_LogNormalLatencies_WithinFivePercentOfReference()
    {
        var random = new Random(11);
        var samples = Enumerable.Range(0, 50_000).Select(_ => (long)Math.Exp(7 + (1.2 * Normal(random)))).ToArray();
        var time = new FakeTimeProvider(TestClock.Start);
        var metrics = new TrafficMetrics(time);
        foreach (var s in samples)
        {
            metrics.Record(200, s, 0, 0);
        }

        var sorted = samples.Order().ToArray();
        var snapshot = metrics.Read(TimeSpan.FromSeconds(30));
        foreach (var (p, measured) in new[] { (50.0, snapshot.P50), (90.0, snapshot.P90), (95.0, snapshot.P95), (99.0, snapshot.P99) })
        {
            var reference = sorted[(int)Math.Ceiling(p / 100 * sorted.Length) - 1] / 1_000_000.0;
            measured.Should().BeApproximately(reference, reference * 0.05, $"p{p}");
        }

        snapshot.Requests.Should().Be(50_000);
    }

    [Fact(Timeout = 10_000)]
    public void Read_Window_ForgetsSecondsThatHavePassed()
    {
        var time = new FakeTimeProvider(TestClock.Start);
        var metrics = new TrafficMetrics(time);
        metrics.Record(500, 1_000, 0, 0);
        time.Advance(TimeSpan.FromSeconds(10));
        metrics.Record(200, 2_000, 0, 0);

        metrics.Read(TimeSpan.FromSeconds(5)).Should().Match<TrafficSnapshot>(s => s.Requests == 1 && s.Errors5xx == 0);
        metrics.Read(TimeSpan.FromSeconds(30)).Should().Match<TrafficSnapshot>(s => s.Requests == 2 && s.Errors5xx == 1 && s.ErrorRate == 0.5);
        time.Advance(TimeSpan.FromSeconds(61));
        metrics.Read(TimeSpan.FromSeconds(60)).Requests.Should().Be(0);
        metrics.Requests.Should().Be(2, "totals since start are kept for Prometheus");
    }

    [Fact(Timeout = 10_000)]
    public void BoundsOf_EveryBucket_IsContiguousAndContainsItsValues()
    {
        for (var i = 0; i < LatencyHistogram.BucketCount - 1; i++)
        {
            var (low, high) = LatencyHistogram.BoundsOf(i);
            LatencyHistogram.BoundsOf(i + 1).Low.Should().Be(high);
            LatencyHistogram.IndexOf(low).Should().Be(i);
            LatencyHistogram.IndexOf(high - 1).Should().Be(i);
            if (low < 32)
            {
                (high - low).Should().Be(1, "exact below 32 us");
            }
            else
            {
                ((double)(high - low) / low).Should().BeLessThanOrEqualTo(1.0 / 32 + 1e-9, "bucket width at most 1/32 of its value above 32 us");
            }
        }
    }

    private static double Normal(Random r) => Math.Sqrt(-2 * Math.Log(1 - r.NextDouble())) * Math.Cos(2 * Math.PI * r.NextDouble());
}
