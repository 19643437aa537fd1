using System.Globalization;
using Gantry.Core.Analysis.Statistics;
using Gantry.Core.Manifest;
using Gantry.Core.Manifest.Values;

namespace Gantry.Core.Analysis.Judge;

/// <summary>How one metric of the canary compares with the baseline.</summary>
public enum MetricClass
{
    Pass,
    High,
    Low,
    NoData,
    Error,
}

public enum JudgementOutcome
{
    Pass,
    Marginal,
    Fail,
}

/// <summary>One metric's classification with its evidence and a sentence a person can read.</summary>
public sealed record MetricJudgement(
    string Metric,
    MetricClass Class,
    bool Failed,
    bool CriticalFailure,
    double Weight,
    ShiftEstimate? Estimate,
    double? CanaryMedian,
    double? BaselineMedian,
    string Sentence);

/// <summary>A whole judgement: the weighted score of the metrics, and what it means.</summary>
public sealed record Judgement(double Score, JudgementOutcome Outcome, IReadOnlyList<MetricJudgement> Metrics, string Summary);

/// <summary>
/// The statistical canary judge: each metric's canary sample against the baseline sample with the
/// Mann-Whitney U test and a Hodges-Lehmann confidence interval of the shift, classified Pass, High or
/// Low (a shift within allowedIncrease of the baseline median passes), NoData or Error; then a weighted
/// score against the pass and marginal thresholds. A critical metric that fails fails the judgement.
/// </summary>
public static class CanaryJudge
{
    /// <summary>
    /// Judges one metric. Without <paramref name="quantile"/> the whole distributions are compared (Mann-Whitney U,
    /// Hodges-Lehmann shift of the median); with it, that percentile of each (bootstrap interval of the
    /// difference), which is what sees a canary slow on a few requests in twenty. Outliers are never removed
    /// from a percentile comparison: the tail is what it measures.
    /// </summary>
    public static MetricJudgement JudgeMetric(string metric, JudgeOptions options, IReadOnlyList<double>? canary, IReadOnlyList<double>? baseline, QuantityKind kind, string? error = null, double? quantile = null)
    {
        if (error is not null)
        {
            return new MetricJudgement(metric, MetricClass.Error, true, options.Critical, options.Weight, null, null, null, $"{metric}: {error}");
        }

        var outliers = quantile is null ? options.Outliers : OutlierHandling.Keep;
        var x = Clean(canary ?? [], outliers);
        var y = Clean(baseline ?? [], outliers);
        if (x.Count == 0 || y.Count == 0)
        {
            // As in Kayenta, a critical metric without data fails the canary, whatever mustHaveData says.
            var which = x.Count == 0 && y.Count == 0 ? "canary and baseline" : x.Count == 0 ? "canary" : "baseline";
            var failedNoData = options.MustHaveData || options.Critical;
            return new MetricJudgement(metric, MetricClass.NoData, failedNoData, options.Critical, options.Weight, null, null, null,
                $"{metric}: no data for the {which}{(options.Critical ? " (critical: no data fails the canary)" : options.MustHaveData ? " (mustHaveData)" : ", ignored")}");
        }

        var estimate = quantile is { } q ? QuantileShift.Compare(x, y, q, options.Confidence) : MannWhitney.Compare(x, y, options.Confidence);
        var baseMedian = quantile is { } qb ? QuantileShift.Of([.. y.Order()], qb) : Median(y);
        var canaryMedian = quantile is { } qc ? QuantileShift.Of([.. x.Order()], qc) : Median(x);
        var statistic = quantile is { } qs ? string.Create(CultureInfo.InvariantCulture, $"p{qs * 100:0.#}") : "median";
        var allowed = Math.Max((options.AllowedIncrease?.Fraction ?? 0) * Math.Abs(baseMedian), options.Tolerance?.TotalSeconds ?? 0);
        var cls = estimate.Lower > allowed ? MetricClass.High
            : estimate.Upper < -allowed ? MetricClass.Low
            : MetricClass.Pass;

        // Mostly tied series (zero-inflated: most requests 0 errors on both sides) give a degenerate interval, [0, 0],
        // while the rank test sees the difference: the class then follows the test and the direction of the ranks,
        // when the means differ by more than allowed.
        var tied = quantile is null && cls == MetricClass.Pass && estimate.Lower == estimate.Upper && estimate.PValue < 1 - options.Confidence
            && Math.Abs(x.Average() - y.Average()) > allowed;
        if (tied)
        {
            cls = estimate.U > estimate.CanaryCount * (double)estimate.BaselineCount / 2 ? MetricClass.High : MetricClass.Low;
        }

        var failed = cls switch
        {
            MetricClass.High => options.Direction != JudgeDirection.Decrease,
            MetricClass.Low => options.Direction != JudgeDirection.Increase,
            _ => false,
        };
        var critical = failed && (options.Critical || (options.CriticalIncrease is { } c && Math.Abs(estimate.Shift) > c.Fraction * Math.Abs(baseMedian)));
        var interval = string.Create(CultureInfo.InvariantCulture,
            $"{ValueText.WithSign(estimate.Shift, kind)}, {estimate.Confidence * 100:0.#}% CI [{ValueText.Number(estimate.Lower, kind)}, {ValueText.Number(estimate.Upper, kind)}]{ValueText.Unit(kind)}, p = {estimate.PValue:0.####}");
        var verdict = (tied ? "the interval is degenerate (most values tie), the rank test decides: " : string.Empty) + cls switch
        {
            MetricClass.Pass => options.AllowedIncrease is not null || options.Tolerance is not null ? "no shift beyond what is allowed" : "no significant shift",
            _ => $"{(cls == MetricClass.High ? "higher" : "lower")} than the baseline{(options.AllowedIncrease is { } a2 ? $" by more than {a2}" : string.Empty)}"
                + (failed ? (critical ? ": critical" : string.Empty) : $" (direction {options.Direction.ToString().ToLowerInvariant()}: allowed)"),
        };
        return new MetricJudgement(metric, cls, failed, critical, options.Weight, estimate, canaryMedian, baseMedian,
            $"{metric}: canary {statistic} {ValueText.Format(canaryMedian, kind)} vs baseline {ValueText.Format(baseMedian, kind)} ({interval}): {verdict}");
    }

    /// <summary>The weighted share of metrics that passed (NoData metrics without mustHaveData do not count), and the outcome.</summary>
    public static Judgement Score(IReadOnlyList<MetricJudgement> metrics, ScoreThresholds thresholds)
    {
        var counted = metrics.Where(m => m.Class != MetricClass.NoData || m.Failed).ToList();
        var total = counted.Sum(m => m.Weight);

        // No metric with data is no evidence: a score of 0, never a pass (as Kayenta's scorer).
        var score = total <= 0 ? 0 : 100 * counted.Where(m => !m.Failed).Sum(m => m.Weight) / total;
        var critical = metrics.FirstOrDefault(m => m.CriticalFailure);
        var outcome = critical is not null || score < thresholds.Marginal ? JudgementOutcome.Fail
            : score < thresholds.Pass ? JudgementOutcome.Marginal
            : JudgementOutcome.Pass;
        var summary = string.Create(CultureInfo.InvariantCulture, $"score {score:0.#} (pass {thresholds.Pass:0.#}, marginal {thresholds.Marginal:0.#}): {outcome.ToString().ToLowerInvariant()}")
            + (total <= 0 ? "; no metric had data" : string.Empty)
            + (critical is null ? string.Empty : $"; critical metric {critical.Metric} {(critical.Class == MetricClass.NoData ? "had no data" : "failed")}");
        return new Judgement(score, outcome, metrics, summary);
    }

    /// <summary>Kayenta's rule over a run's judgements: the last must pass, the earlier ones must be at least marginal.</summary>
    public static AnalysisPhase Final(IReadOnlyList<Judgement> judgements)
    {
        if (judgements.Count == 0)
        {
            return AnalysisPhase.Inconclusive;
        }

        return judgements[^1].Outcome == JudgementOutcome.Pass && judgements.Take(judgements.Count - 1).All(j => j.Outcome != JudgementOutcome.Fail)
            ? AnalysisPhase.Successful
            : AnalysisPhase.Failed;
    }

    /// <summary>Drops NaN values and, when asked, outliers beyond three interquartile ranges from the quartiles.</summary>
    public static IReadOnlyList<double> Clean(IReadOnlyList<double> values, OutlierHandling outliers)
    {
        var finite = values.Where(double.IsFinite).ToList();
        if (outliers == OutlierHandling.Keep || finite.Count < 4)
        {
            return finite;
        }

        var sorted = finite.Order().ToArray();
        var q1 = Quantile(sorted, 0.25);
        var q3 = Quantile(sorted, 0.75);
        var iqr = q3 - q1;
        return [.. finite.Where(v => v >= q1 - (3 * iqr) && v <= q3 + (3 * iqr))];
    }

    public static double Median(IReadOnlyList<double> values) => Quantile([.. values.Order()], 0.5);

    private static double Quantile(double[] sorted, double q)
    {
        var position = q * (sorted.Length - 1);
        var low = (int)Math.Floor(position);
        var high = (int)Math.Ceiling(position);
        return sorted[low] + ((sorted[high] - sorted[low]) * (position - low));
    }
}
