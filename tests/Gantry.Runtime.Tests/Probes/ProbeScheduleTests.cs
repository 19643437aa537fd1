using Gantry.Runtime.Probes;

namespace Gantry.Runtime.Tests.Probes;

/// <summary>The next probe's time: an interval on, rounded up to a grid every instance shares, so probes that fall due close together are made together.</summary>
public sealed class ProbeScheduleTests
{
    private const long Frequency = 1_000_000; // timestamps in microseconds

    [Theory(Timeout = 10_000)]
    [InlineData(2_000, 100_000)]   // a 2 s interval: the grid's largest step, 100 ms
    [InlineData(10_000, 100_000)]
    [InlineData(300, 30_000)]      // short intervals: a tenth of the interval
    [InlineData(100, 10_000)]
    [InlineData(0, 1)]
    public void Step_IsATenthOfTheInterval_AtMost100Ms(int intervalMs, long step) =>
        ProbeSchedule.Step(TimeSpan.FromMilliseconds(intervalMs), Frequency).Should().Be(step);

    [Theory(Timeout = 10_000)]
    [InlineData(7_000_123L, 2_000, 9_100_000L)]
    [InlineData(7_099_999L, 2_000, 9_100_000L)]
    [InlineData(7_100_000L, 2_000, 9_100_000L)]  // already on the grid: exactly one interval on
    [InlineData(7_100_001L, 2_000, 9_200_000L)]
    [InlineData(5_000_001L, 300, 5_310_000L)]
    public void Next_IsOneIntervalOn_RoundedUpToTheGrid(long now, int intervalMs, long due) =>
        ProbeSchedule.Next(now, TimeSpan.FromMilliseconds(intervalMs), Frequency).Should().Be(due);

    [Fact(Timeout = 10_000)]
    public void InstancesProbedAtScatteredTimes_AreDueTogether_NeverEarly_AndLateByLessThanAStep()
    {
        var interval = TimeSpan.FromSeconds(2);
        var random = new Random(7);
        var lasts = Enumerable.Range(0, 1_000).Select(_ => 50_000_000L + random.NextInt64(0, 2_000_000)).ToList();

        var dues = lasts.Select(last => (Last: last, Due: ProbeSchedule.Next(last, interval, Frequency))).ToList();

        dues.Should().OnlyContain(d => d.Due >= d.Last + 2_000_000 && d.Due < d.Last + 2_000_000 + 100_000);
        dues.Select(d => d.Due).Distinct().Count().Should().BeLessThanOrEqualTo(21, "1,000 instances probed over one interval wake at most once per 100 ms step");
    }
}
