using System.Globalization;
using Gantry.Core.Analysis.Sequential;
using Gantry.Core.Manifest;

namespace Gantry.Core.Analysis.Judge;

/// <summary>The sequential judge of one percentile (latency_p50 ... latency_p99).</summary>
public static partial class SequentialJudge
{
    /// <summary>
    /// A percentile judged by its tail: each look counts the canary's requests slower than the baseline's percentile
    /// so far (plus the allowance) and the baseline's requests slower than that percentile. The threshold is fixed
    /// by the earlier looks before this look's requests are counted, so under the null (the canary's percentile
    /// no higher than the baseline's by more than the allowance) a canary request is beyond it no more often than
    /// a baseline one, and <see cref="CountEvidence"/> gives an e-value valid at every look. At the first look every
    /// other baseline request sets the threshold and the others are counted. A tail ten times as
    /// heavy shows within a second's requests, where a band around p99 needs thousands of them before it can
    /// bound the baseline's p99 at all.
    /// </summary>
    private static (SequentialState, MetricJudgement) Tail(SequentialState state, string metric, JudgeOptions options, double q, MetricValue canary, MetricValue baseline)
    {
        var allowance = AllowanceOf(options);
        var cs = canary.Samples ?? [];
        var bs = baseline.Samples ?? [];
        var x = state.Baseline.Count > 0 ? state.Baseline.Quantile(q) : double.NaN;
        var counted = bs;
        if (!double.IsFinite(x) && bs.Count >= 2)
        {
            // No earlier look: every other baseline request sets the threshold, the rest are counted against it.
            x = LatencySketch.Empty.Add(bs.Where((_, i) => i % 2 == 0)).Quantile(q);
            counted = [.. bs.Where((_, i) => i % 2 == 1)];
        }

        if (double.IsFinite(x) && cs.Count > 0 && counted.Count > 0)
        {
            var beyond = x + allowance.Above(x);
            var up = new CountBatch(cs.Count, cs.Count(v => v > beyond), counted.Count, counted.Count(v => v > x));
            var down = new CountBatch(cs.Count, cs.Count(v => v > x), counted.Count, counted.Count(v => v > beyond));
            state = state with { Counts = state.Counts.Add(up, down, options.Direction, 0) };
        }

        state = state with { Canary = state.Canary.Add(cs), Baseline = state.Baseline.Add(bs) };
        var counts = state.Counts;
        var statistic = Statistic(q);
        var cq = state.Canary.Quantile(q);
        var bq = state.Baseline.Quantile(q);
        var e = counts.EValue;
        var limit = 1 / options.Alpha;
        var evalue = string.Create(CultureInfo.InvariantCulture, $"e-value {EText(e)} {(e >= limit ? ">=" : "<")} {limit:0.##} = 1/alpha");
        var seen = Seen(state);
        if (e >= limit)
        {
            var higher = counts.Leaning(options.Direction, 0) == SequentialOutcome.Higher;
            var ratio = higher ? counts.CanaryRate / counts.BaselineRate : counts.BaselineRate / counts.CanaryRate;
            var critical = options.Critical || (options.CriticalIncrease is { } c && (double.IsNaN(ratio) || cq / bq - 1 > c.Fraction));
            var tail = string.Create(CultureInfo.InvariantCulture,
                $"{Rate(counts.CanaryRate)} of the canary's requests ({counts.CanaryEvents:N0} of {counts.CanaryTrials:N0}) were beyond the baseline's running {statistic}{(allowance.Fraction > 0 || allowance.Floor > 0 ? " plus the allowance" : string.Empty)}, against {Rate(counts.BaselineRate)} of the baseline's ({counts.BaselineEvents:N0} of {counts.BaselineTrials:N0})");
            return (state, new MetricJudgement(metric, higher ? MetricClass.High : MetricClass.Low, true, critical, options.Weight, null, Finite(cq), Finite(bq),
                $"{metric}: canary {statistic} {Ms(cq)} vs baseline {Ms(bq)}: {tail}: {evalue}: the canary's {statistic} is {(higher ? "higher" : "lower")}{Allowed(options)}{Bounds(state, q, options.Alpha, statistic)}{(critical ? ": critical" : string.Empty)}"));
        }

        // What would have been detected: a canary beyond the threshold at rate r* is the baseline scaled by m with
        // 1 - F(threshold / m) = r*, so m = threshold / Q(1 - r*).
        var detectable = counts.CanaryTrials > 0 ? counts.DetectableCanaryRate(options.Alpha, 0) : null;
        var scaled = detectable is { } r && r < 1 && double.IsFinite(bq) ? (bq + allowance.Above(bq)) / state.Baseline.Quantile(1 - r) * bq : double.NaN;
        if (!double.IsFinite(scaled))
        {
            return (state, new MetricJudgement(metric, MetricClass.NoData, false, false, options.Weight, null, Finite(cq), Finite(bq),
                $"{metric}: waiting for data: {seen} so far; the {statistic} cannot be told apart yet"));
        }

        return (state, new MetricJudgement(metric, MetricClass.Pass, false, false, options.Weight, null, Finite(cq), Finite(bq),
            $"{metric}: canary {statistic} {Ms(cq)} vs baseline {Ms(bq)} after {seen}: no evidence of a change ({evalue}); a canary {statistic} above {Ms(scaled)} would have been detected"));
    }

    /// <summary>The percentiles' own time-uniform bounds, where there are enough requests for them ("" otherwise).</summary>
    private static string Bounds(SequentialState state, double q, double alpha, string statistic)
    {
        var canary = QuantileBand.LowerBound(state.Canary, q, alpha / 2);
        var baseline = QuantileBand.UpperBound(state.Baseline, q, alpha / 2);
        return canary is { } c && baseline is { } b ? $" (time-uniform bounds: canary {statistic} above {Ms(c)}, baseline {statistic} at most {Ms(b)})" : string.Empty;
    }
}
