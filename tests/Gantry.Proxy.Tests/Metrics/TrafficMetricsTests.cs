using Gantry.Proxy.Metrics;
using Gantry.Testing;

namespace Gantry.Proxy.Tests.Metrics;

public sealed class TrafficMetricsTests
{
    [Fact(Timeout = 10_000)]
    public void Samples_Window_ReturnsOnlyRecentLatenciesInSeconds()
    {
        var time = new FakeTimeProvider(TestClock.Start);
        var metrics = new TrafficMetrics(time);
        metrics.Record(200, 1_000, 0, 0);
        metrics.Record(200, 2_000, 0, 0);
        time.Advance(TimeSpan.FromSeconds(10));
        metrics.Record(500, 250_000, 0, 0);

        metrics.Samples(TimeSpan.FromSeconds(5)).Should().Equal(0.25);
        metrics.Samples(TimeSpan.FromSeconds(60)).Should().BeEquivalentTo([0.001, 0.002, 0.25]);
    }

    [Fact(Timeout = 10_000)]
    public void AOneSecondWindow_ReadEarlyInASecond_HoldsTheRequestsOfTheSecondBefore()
    {
        var time = new FakeTimeProvider(TestClock.Start);
        var metrics = new TrafficMetrics(time);
        time.Advance(TimeSpan.FromMilliseconds(900));
        metrics.Record(200, 40_000, 0, 0);
        time.Advance(TimeSpan.FromMilliseconds(200));

        // 0.2 s ago, in the second before the current one: within the last second, so it counts.
        metrics.Read(TimeSpan.FromSeconds(1)).Should().Match<TrafficSnapshot>(s => s.Requests == 1 && s.P99 > 0.03);
        metrics.Samples(TimeSpan.FromSeconds(1)).Should().Equal(0.04);
        metrics.SamplesAfter(-1, out _, TimeSpan.FromSeconds(1)).Should().Equal(0.04);

        time.Advance(TimeSpan.FromMilliseconds(1400));
        metrics.Read(TimeSpan.FromSeconds(1)).Requests.Should().Be(0, "1.6 s ago, in a second that ended before the last one began");
        metrics.Samples(TimeSpan.FromSeconds(1)).Should().BeEmpty();
        metrics.Read(TimeSpan.FromSeconds(2)).Requests.Should().Be(1);
    }

    [Fact(Timeout = 10_000)]
    public void TheWholeWindow_IsKept_EvenAtItsLongest()
    {
        var time = new FakeTimeProvider(TestClock.Start);
        var metrics = new TrafficMetrics(time);
        time.Advance(TimeSpan.FromMilliseconds(900));
        metrics.Record(500, 1_000, 0, 0);
        time.Advance(TimeSpan.FromSeconds(59.5));

        // 59.5 s ago, and the slot of its second is not yet taken by the current one.
        metrics.Read(TimeSpan.FromSeconds(60)).Should().Match<TrafficSnapshot>(s => s.Requests == 1 && s.Errors5xx == 1);
        metrics.Record(200, 1_000, 0, 0);
        metrics.Read(TimeSpan.FromSeconds(60)).Should().Match<TrafficSnapshot>(s => s.Requests == 2 && s.Errors5xx == 1);
    }

    [Fact(Timeout = 10_000)]
    public void Samples_MoreThanTheRing_KeepsTheMostRecent()
    {
        var metrics = new TrafficMetrics(new FakeTimeProvider(TestClock.Start));
        for (var i = 1; i <= TrafficMetrics.SampleCount + 500; i++)
        {
            metrics.Record(200, i, 0, 0);
        }

        var samples = metrics.Samples(TimeSpan.FromSeconds(60));
        samples.Should().HaveCount(TrafficMetrics.SampleCount);
        samples.Min().Should().BeApproximately(501 / 1e6, 1e-12);
    }

    [Fact(Timeout = 10_000)]
    public void SamplesAfter_GivesEachKeptRequestOnce_EvenWithinTheCurrentSecondOfABusySeries()
    {
        var metrics = new TrafficMetrics(new FakeTimeProvider(TestClock.Start));
        metrics.SamplesAfter(-1, out var none).Should().BeEmpty();
        none.Should().Be(-1, "nothing kept yet");
        for (var i = 1; i <= 3; i++)
        {
            metrics.Record(200, i * 1000, 0, 0);
        }

        metrics.SamplesAfter(-1, out var first).Should().BeEquivalentTo([0.001, 0.002, 0.003]);
        first.Should().Be(2);
        metrics.SamplesAfter(first, out var same).Should().BeEmpty("nothing new");
        same.Should().Be(first);

        // Busier than the ring: only the most recent are still there, none of them twice.
        for (var i = 1; i <= TrafficMetrics.SampleCount + 100; i++)
        {
            metrics.Record(200, 10_000 + i, 0, 0);
        }

        var busy = metrics.SamplesAfter(first, out var next);
        busy.Should().HaveCount(TrafficMetrics.SampleCount).And.OnlyHaveUniqueItems();
        busy.Min().Should().BeApproximately((10_000 + 101) / 1e6, 1e-12);
        next.Should().Be(first + TrafficMetrics.SampleCount + 100);
        metrics.Record(200, 5_000, 0, 0);
        metrics.SamplesAfter(next, out _).Should().Equal(0.005);
    }

    [Fact(Timeout = 10_000)]
    public void ReadBetween_CountsOnlyTheWholeSecondsAfterTheCursor()
    {
        var time = new FakeTimeProvider(TestClock.Start);
        var metrics = new TrafficMetrics(time);
        metrics.Record(200, 1_000, 0, 0);
        metrics.Record(500, 1_000, 0, 0);
        time.Advance(TimeSpan.FromSeconds(1));
        var cursor = metrics.CompletedSecond;
        metrics.ReadBetween(cursor - 1, cursor).Requests.Should().Be(2);
        metrics.Record(500, 1_000, 0, 0);
        metrics.ReadBetween(cursor, metrics.CompletedSecond).Requests.Should().Be(0, "the current second is not complete");
        time.Advance(TimeSpan.FromSeconds(1));
        var read = metrics.ReadBetween(cursor, metrics.CompletedSecond);
        read.Requests.Should().Be(1);
        read.Errors5xx.Should().Be(1);
    }

    [Fact(Timeout = 10_000)]
    public void SamplesAfter_Within_TakesOnlyTheWindowTheFirstTime_AndItsCursorNeverRepeatsOne()
    {
        var time = new FakeTimeProvider(TestClock.Start);
        var metrics = new TrafficMetrics(time);
        metrics.Record(200, 1_000, 0, 0);
        time.Advance(TimeSpan.FromSeconds(10));
        metrics.Record(200, 2_000, 0, 0);

        metrics.SamplesAfter(-1, out var cursor, TimeSpan.FromSeconds(3)).Should().Equal(0.002);
        metrics.Record(200, 3_000, 0, 0);
        metrics.SamplesAfter(cursor, out _).Should().Equal(0.003);
    }
}
