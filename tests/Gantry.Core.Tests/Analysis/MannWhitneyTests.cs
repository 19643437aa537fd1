using Gantry.Core.Analysis.Statistics;

namespace Gantry.Core.Tests.Analysis;

public sealed class MannWhitneyTests
{
    [Fact(Timeout = 10_000)]
    public void Compare_SeparatedSamples_MatchesTheHandComputedTest()
    {
        // Ranks 1, 2, 3 for the canary: U = 0; sigma^2 = 3*3/12 * 7 = 5.25; z = (4.5 - 0.5) / 2.2913 = 1.7457.
        var result = MannWhitney.Compare([1, 2, 3], [4, 5, 6], 0.98);

        result.U.Should().Be(0);
        result.PValue.Should().BeApproximately(0.0809, 0.0001);
        result.Shift.Should().Be(-3, "the median of the nine differences -5 -4 -4 -3 -3 -3 -2 -2 -1");
        (result.Lower, result.Upper).Should().Be((-5.0, -1.0), "with 3 and 3 values the 98% interval is the whole range of differences");
        result.Significant.Should().BeTrue();
    }

    [Fact(Timeout = 10_000)]
    public void Compare_TextbookSamples_GivesUPValueShiftAndInterval()
    {
        double[] canary = [12.1, 14.3, 11.8, 15.2, 13.9, 16.0, 12.7, 14.8];
        double[] baseline = [10.2, 11.5, 9.8, 12.0, 10.9, 11.1, 12.4];

        var result = MannWhitney.Compare(canary, baseline, 0.95);

        // Computed by hand (rank sum 89 of the canary) and checked with the normal approximation.
        result.U.Should().Be(53);
        result.PValue.Should().BeApproximately(0.004578, 0.00001);
        result.Shift.Should().BeApproximately(2.8, 1e-9);
        // c = floor(28 - 1.96 * sqrt(56 * 16 / 12)) = 11: the 11th smallest and 11th largest of the 56 differences, counted
        // from 1 as R's wilcox.test does (the 12th of each gave an interval one order statistic too narrow).
        result.Lower.Should().BeApproximately(1.0, 1e-9, "the 11th smallest of the 56 differences");
        result.Upper.Should().BeApproximately(4.3, 1e-9, "the 11th largest");
    }

    [Fact(Timeout = 10_000)]
    public void Compare_IdenticalSamples_FindsNoShift()
    {
        var result = MannWhitney.Compare([1, 2, 3, 4, 5], [1, 2, 3, 4, 5], 0.98);
        result.U.Should().Be(12.5);
        result.PValue.Should().Be(1);
        result.Shift.Should().Be(0);
        result.Significant.Should().BeFalse();
    }

    [Fact(Timeout = 10_000)]
    public void Compare_AllValuesTied_HasNoVarianceAndNoShift()
    {
        var result = MannWhitney.Compare([0.1, 0.1, 0.1], [0.1, 0.1, 0.1, 0.1], 0.98);
        result.PValue.Should().Be(1);
        (result.Shift, result.Lower, result.Upper).Should().Be((0.0, 0.0, 0.0));
        result.Significant.Should().BeFalse();
    }

    [Fact(Timeout = 10_000)]
    public void Compare_EmptySample_IsRefused()
    {
        var compare = () => MannWhitney.Compare([], [1.0], 0.98);
        compare.Should().Throw<ArgumentException>();
    }

    [Fact(Timeout = 10_000)]
    public void Compare_LargeSamples_AreThinnedAndStillDetectAShift()
    {
        var random = new Random(1);
        var baseline = Enumerable.Range(0, 5000).Select(_ => 0.100 + (random.NextDouble() * 0.02)).ToArray();
        var canary = Enumerable.Range(0, 5000).Select(_ => 0.105 + (random.NextDouble() * 0.02)).ToArray();

        var result = MannWhitney.Compare(canary, baseline, 0.98);

        (result.CanaryCount, result.BaselineCount).Should().Be((MannWhitney.MaxSample, MannWhitney.MaxSample));
        result.Shift.Should().BeApproximately(0.005, 0.001);
        result.Lower.Should().BePositive();
    }
}
