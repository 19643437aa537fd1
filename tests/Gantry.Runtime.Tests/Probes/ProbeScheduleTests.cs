using Gantry.Runtime.Probes;

namespace Gantry.Runtime.Tests.Probes;

/// <summary>
/// The next probe's time: an interval on, rounded up to a grid every instance with that interval shares (at least four
/// steps an interval, none over 500 ms), so probes that fall due close together are made together, and a probe that
/// keeps passing is made exactly every interval.
/// </summary>
public sealed class ProbeScheduleTests
{
    private const long Frequency = 1_000_000; // timestamps in microseconds

    [Theory(Timeout = 10_000)]
    [InlineData(2_000, 500_000)]    // the default 2 s interval: four steps of 500 ms
    [InlineData(10_000, 500_000)]   // long intervals: steps of 500 ms
    [InlineData(2_200, 440_000)]    // not a multiple of 500 ms: five equal steps, none over 500 ms
    [InlineData(300, 75_000)]       // short intervals: a quarter of the interval
    [InlineData(100, 25_000)]
    [InlineData(0, 1)]
    public void Step_DividesTheIntervalIntoAtLeastFourSteps_NoneOver500Ms(int intervalMs, long step) =>
        ProbeSchedule.Step(TimeSpan.FromMilliseconds(intervalMs), Frequency).Should().Be(step);

    [Theory(Timeout = 10_000)]
    [InlineData(7_000_123L, 2_000, 9_500_000L)]
    [InlineData(7_499_999L, 2_000, 9_500_000L)]
    [InlineData(7_500_000L, 2_000, 9_500_000L)]  // already on the grid: exactly one interval on
    [InlineData(7_500_001L, 2_000, 10_000_000L)]
    [InlineData(5_000_001L, 300, 5_325_000L)]
    [InlineData(5_060_000L, 300, 5_400_000L)]
    public void Next_IsOneIntervalOn_RoundedUpToTheGrid(long now, int intervalMs, long due) =>
        ProbeSchedule.Next(now, TimeSpan.FromMilliseconds(intervalMs), Frequency).Should().Be(due);

    [Theory(Timeout = 10_000)]
    [InlineData(2_000, 1, 7_050_123L)]    // 50 ms after the first failure
    [InlineData(2_000, 2, 7_100_123L)]    // doubling
    [InlineData(2_000, 5, 7_800_123L)]
    [InlineData(2_000, 6, 8_600_123L)]    // 1.6 s: still sooner than the interval's own schedule
    [InlineData(2_000, 7, 9_500_000L)]    // 3.2 s would be later: the interval's schedule, on the grid
    [InlineData(2_000, 40, 9_500_000L)]
    [InlineData(100, 1, 7_050_123L)]
    [InlineData(100, 2, 7_125_000L)]      // 100 ms is the interval: its schedule
    public void NextWhileStarting_RetriesSoon_DoublingWithEachFailure_NeverLaterThanTheInterval(int intervalMs, int failures, long due) =>
        ProbeSchedule.NextWhileStarting(7_000_123L, failures, TimeSpan.FromMilliseconds(intervalMs), Frequency).Should().Be(due);

    [Theory(Timeout = 10_000)]
    [InlineData(2_000L, 1_000_000_000L)]   // the system clock's nanoseconds
    [InlineData(3_100L, 1_000_000_000L)]   // seven steps of 442,857,142 ns and 6 ns over
    [InlineData(3_100L, 1_000_000L)]
    [InlineData(1_234L, 10_000_000L)]
    public void AProbeThatKeepsPassing_IsMadeEveryInterval_OnTheGrid(long intervalMs, long frequency)
    {
        var interval = TimeSpan.FromMilliseconds(intervalMs);
        var ticks = intervalMs * frequency / 1000;
        var step = ProbeSchedule.Step(interval, frequency);
        var due = ProbeSchedule.Next(123_456_789L, interval, frequency);

        for (var i = 0; i < 1_000; i++)
        {
            var next = ProbeSchedule.Next(due, interval, frequency);
            (next - due).Should().BeInRange(ticks - (ticks % step), ticks, "a repeat is never a step late, and early by fewer ticks than there are steps");
            due = next;
        }
    }

    [Fact(Timeout = 10_000)]
    public void InstancesProbedAtScatteredTimes_AreDueTogether_NeverEarly_AndLateByLessThanAStep()
    {
        var interval = TimeSpan.FromSeconds(2);
        var random = new Random(7);
        var lasts = Enumerable.Range(0, 1_000).Select(_ => 50_000_000L + random.NextInt64(0, 2_000_000)).ToList();

        var dues = lasts.Select(last => (Last: last, Due: ProbeSchedule.Next(last, interval, Frequency))).ToList();

        dues.Should().OnlyContain(d => d.Due >= d.Last + 2_000_000 && d.Due < d.Last + 2_000_000 + 500_000);
        dues.Select(d => d.Due).Distinct().Count().Should().BeLessThanOrEqualTo(5, "1,000 instances probed over one interval wake at most once per 500 ms step");
        dues.GroupBy(d => d.Due % 2_000_000).Should().HaveCount(4, "an interval's instances are spread over its four steps, not probed at one moment");
    }
}
