using Gantry.Core.Analysis.Statistics;

namespace Gantry.Core.Tests.Analysis;

public sealed class QuantileShiftTests
{
    [Fact(Timeout = 10_000)]
    public void Of_NearestRank_IsTheSmallestValueWithTheShareAtOrBelowIt()
    {
        double[] sorted = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
        QuantileShift.Of(sorted, 0.5).Should().Be(5);
        QuantileShift.Of(sorted, 0.9).Should().Be(9);
        QuantileShift.Of(sorted, 0.91).Should().Be(10);
        QuantileShift.Of(sorted, 0.01).Should().Be(1);
    }

    [Fact(Timeout = 10_000)]
    public void Compare_IdenticalSamples_GiveNoShiftAndAnIntervalAroundZero()
    {
        var values = Enumerable.Range(1, 500).Select(i => (double)i).ToArray();
        var estimate = QuantileShift.Compare(values, values, 0.9, 0.98);
        estimate.Shift.Should().Be(0);
        estimate.Lower.Should().BeLessThanOrEqualTo(0);
        estimate.Upper.Should().BeGreaterThanOrEqualTo(0);
        estimate.Significant.Should().BeFalse();
        estimate.PValue.Should().BeGreaterThan(0.1);
    }

    [Fact(Timeout = 10_000)]
    public void Compare_ShiftedTail_IsSignificantWithTheShiftInsideItsInterval()
    {
        var baseline = Enumerable.Range(1, 1000).Select(i => (double)i).ToArray();
        var canary = baseline.Select(v => v > 900 ? v + 500 : v).ToArray();
        var estimate = QuantileShift.Compare(canary, baseline, 0.95, 0.98);
        estimate.Shift.Should().Be(500, "the 950th value moved by 500");
        estimate.Lower.Should().BeGreaterThan(400);
        estimate.Upper.Should().BeLessThan(600);
        estimate.PValue.Should().Be(0);
        QuantileShift.Compare(canary, baseline, 0.5, 0.98).Shift.Should().Be(0, "the median did not move");
    }

    [Fact(Timeout = 10_000)]
    public void Compare_TiedAndTinySamples_StayWithinTheData()
    {
        var tied = QuantileShift.Compare([5, 5, 5], [5], 0.99, 0.98);
        (tied.Shift, tied.Lower, tied.Upper).Should().Be((0.0, 0.0, 0.0));
        var act = () => QuantileShift.Compare([], [1], 0.99, 0.98);
        act.Should().Throw<ArgumentException>();
    }
}
