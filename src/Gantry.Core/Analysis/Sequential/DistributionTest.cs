using Gantry.Core.Manifest;

namespace Gantry.Core.Analysis.Sequential;

/// <summary>What a sequential test can say at a look.</summary>
public enum SequentialOutcome
{
    /// <summary>Too little data to detect anything yet: not evidence either way.</summary>
    Waiting,

    /// <summary>No evidence of a change beyond the allowance so far.</summary>
    NoEvidence,

    /// <summary>The canary is higher (slower, more errors) beyond the allowance.</summary>
    Higher,

    /// <summary>The canary is lower beyond the allowance.</summary>
    Lower,
}

/// <summary>
/// Where two distributions were told apart: at <see cref="Level"/>, the canary's quantile is beyond
/// <see cref="CanaryBound"/> and the baseline's within <see cref="BaselineBound"/> (for Higher: canary at least,
/// baseline at most; for Lower the other way round).
/// </summary>
public sealed record DistributionEvidence(SequentialOutcome Outcome, double Level, double CanaryBound, double BaselineBound, double CanaryWidth, double BaselineWidth);

/// <summary>What is allowed before a change counts: a relative increase and an absolute floor (seconds).</summary>
public sealed record Allowance(double Fraction, double Floor)
{
    public static readonly Allowance None = new(0, 0);

    /// <summary>How far above <paramref name="value"/> still counts as the same.</summary>
    public double Above(double value) => double.IsPositiveInfinity(value) ? double.PositiveInfinity : Math.Max(Fraction * value, Floor);
}

/// <summary>
/// The anytime-valid two-sample test of latency distributions (Lindon, Sanden and Shirikian, KDD 2022): a
/// time-uniform band around each side's distribution function (<see cref="TimeUniformBand"/>, alpha / 2 each),
/// and a verdict as soon as the bands cannot both hold unless the canary is worse by more than the allowance
/// somewhere in the distribution. Both bands hold at every look with probability
/// 1 - alpha, so a healthy canary is falsely called worse with probability at most alpha over the whole rollout,
/// however often it is looked at.
/// </summary>
public static class DistributionTest
{
    /// <summary>Tests canary against baseline anywhere in their distributions.</summary>
    public static DistributionEvidence Compare(LatencySketch canary, LatencySketch baseline, double alpha, JudgeDirection direction, Allowance allowance)
    {
        var wc = TimeUniformBand.Width(canary.Count, alpha / 2);
        var wb = TimeUniformBand.Width(baseline.Count, alpha / 2);
        var waiting = new DistributionEvidence(SequentialOutcome.Waiting, 0.5, double.NaN, double.NaN, wc, wb);
        if (canary.Count == 0 || baseline.Count == 0)
        {
            return waiting;
        }

        var c = canary.Cumulative();
        var b = baseline.Cumulative();
        DistributionEvidence? found = null;
        if (direction != JudgeDirection.Decrease)
        {
            found = Anywhere(c, canary.Count, wc, b, baseline.Count, wb, allowance, SequentialOutcome.Higher);
        }

        if (found is null && direction != JudgeDirection.Increase)
        {
            found = Anywhere(b, baseline.Count, wb, c, canary.Count, wc, allowance, SequentialOutcome.Lower);
        }

        if (found is not null)
        {
            return found with { CanaryWidth = wc, BaselineWidth = wb };
        }

        // A look counts as evidence once the median could be told apart, that is once both bands are narrower than a half.
        return wc < 0.5 && wb < 0.5 ? waiting with { Outcome = SequentialOutcome.NoEvidence } : waiting;
    }


    /// <summary>
    /// The largest gap, over the low side's bucket edges x, between the low side's distribution function at x (at
    /// least F(x) - w) and the high side's at x plus the allowance (at most F(x + a) + w): a positive gap means the
    /// high side's quantile at that level is beyond x + a while the low side's is within x.
    /// </summary>
    private static DistributionEvidence? Anywhere(long[] high, long nh, double wh, long[] low, long nl, double wl, Allowance allowance, SequentialOutcome outcome)
    {
        var best = 0.0;
        DistributionEvidence? found = null;
        for (var j = 0; j < low.Length - 1; j++)
        {
            var x = LatencySketch.UpperEdge(j);
            var lowAtLeast = (low[j] / (double)nl) - wl;
            if (lowAtLeast <= 0)
            {
                continue;
            }

            var k = LatencySketch.IndexOf(x + allowance.Above(x));
            var highAtMost = (high[k] / (double)nh) + wh;
            var gap = lowAtLeast - highAtMost;
            if (gap > best)
            {
                best = gap;
                var (hb, lb) = (LatencySketch.UpperEdge(k), x);
                found = outcome == SequentialOutcome.Higher
                    ? new DistributionEvidence(outcome, lowAtLeast, hb, lb, 0, 0)
                    : new DistributionEvidence(outcome, lowAtLeast, lb, hb, 0, 0);
            }
        }

        return found;
    }

    /// <summary>
    /// The smallest relative increase of the canary's <paramref name="level"/> quantile that these sample sizes
    /// would detect, if the canary were the baseline scaled (null: not yet at any size of increase).
    /// </summary>
    public static double? DetectableIncrease(LatencySketch baseline, long canaryCount, double alpha, Allowance allowance, double level)
    {
        if (baseline.Count == 0 || canaryCount == 0)
        {
            return null;
        }

        var (below, above) = (level - TimeUniformBand.Width(canaryCount, alpha / 2), level + TimeUniformBand.Width(baseline.Count, alpha / 2));
        if (!(above < 1) || !(below > 0))
        {
            return null;
        }

        var b = baseline.Cumulative();
        var upper = LatencySketch.UpperEdge(LatencySketch.IndexAtLevel(b, baseline.Count, above));
        var lower = LatencySketch.UpperEdge(LatencySketch.IndexAtLevel(b, baseline.Count, below));
        if (!double.IsFinite(upper) || lower <= 0)
        {
            return null;
        }

        return ((upper + allowance.Above(upper)) / lower) - 1;
    }
}
