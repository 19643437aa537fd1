using Gantry.Proxy.Metrics;
using Gantry.Testing;

namespace Gantry.Proxy.Tests.Metrics;

public sealed class TrafficMetricsTests
{
    [Fact(Timeout = 10_000)]
    public async Task Samples_Window_ReturnsOnlyRecentLatenciesInSeconds()
    {
        await Task.Yield();
        var time = new FakeTimeProvider();
        var metrics = new TrafficMetrics(time);
        metrics.Record(200, 1_000, 0, 0);
        metrics.Record(200, 2_000, 0, 0);
        time.Advance(TimeSpan.FromSeconds(10));
        metrics.Record(500, 250_000, 0, 0);

        metrics.Samples(TimeSpan.FromSeconds(5)).Should().Equal(0.25);
        metrics.Samples(TimeSpan.FromSeconds(60)).Should().BeEquivalentTo([0.001, 0.002, 0.25]);
    }

    [Fact(Timeout = 10_000)]
    public async Task Samples_MoreThanTheRing_KeepsTheMostRecent()
    {
        await Task.Yield();
        var metrics = new TrafficMetrics(new FakeTimeProvider());
        for (var i = 1; i <= TrafficMetrics.SampleCount + 500; i++)
        {
            metrics.Record(200, i, 0, 0);
        }

        var samples = metrics.Samples(TimeSpan.FromSeconds(60));
        samples.Should().HaveCount(TrafficMetrics.SampleCount);
        samples.Min().Should().BeApproximately(501 / 1e6, 1e-12);
    }
}
