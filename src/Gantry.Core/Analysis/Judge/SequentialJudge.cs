using System.Globalization;
using Gantry.Core.Analysis.Sequential;
using Gantry.Core.Manifest;
using Gantry.Core.Manifest.Values;

namespace Gantry.Core.Analysis.Judge;

/// <summary>
/// The anytime-valid judge (<c>judge: { method: sequential, alpha }</c>): each look adds the requests that are new
/// since the previous one to everything seen so far and asks whether the canary is now known to be worse. Latencies
/// go through <see cref="DistributionTest"/> (the whole distribution, or one percentile for latency_pNN), error
/// and success rates through <see cref="CountEvidence"/>. A healthy canary is falsely failed with probability at
/// most alpha over the whole rollout, however long it runs; too little data is a wait, not a failure, and each
/// sentence says what could have been detected so far.
/// </summary>
public static partial class SequentialJudge
{
    /// <summary>The quantiles whose detectable increase a look reports when the whole distribution is judged.</summary>
    private static readonly double[] ReportedLevels = [0.5, 0.9, 0.99];

    /// <summary>One look: the new state and the judgement (class NoData while waiting, which is no failure).</summary>
    public static (SequentialState State, MetricJudgement Judgement) Look(
        SequentialState state, string metric, JudgeOptions options, BuiltinMetric query, MetricValue? canary, MetricValue? baseline, string baselineSet)
    {
        if (state.BaselineSet != baselineSet)
        {
            state = SequentialState.Start(baselineSet, CountDirection(options, query)) with { Restarts = state.Restarts + (state.BaselineSet is null ? 0 : 1) };
        }

        if (state.Verdict is { } decided)
        {
            return (state, decided);
        }

        var error = canary is null || (canary.Samples is null && canary.Counts is null) ? canary?.Error ?? "nothing measured"
            : baseline is null || (baseline.Samples is null && baseline.Counts is null) ? $"the baseline could not be measured: {baseline?.Error ?? "nothing measured"}"
            : null;
        if (error is not null)
        {
            return (state, new MetricJudgement(metric, MetricClass.Error, true, options.Critical, options.Weight, null, null, null, $"{metric}: {error}"));
        }

        state = state with { CanaryAfter = canary!.Through ?? state.CanaryAfter, BaselineAfter = baseline!.Through ?? state.BaselineAfter };
        var (next, judgement) = query is BuiltinMetric.ErrorRate or BuiltinMetric.SuccessRate ? Counts(state, metric, options, query, canary, baseline)
            : new BuiltinQuery(query, null).JudgedQuantile is { } quantile ? Tail(state, metric, options, quantile, canary, baseline)
            : Latencies(state, metric, options, canary, baseline);
        return (judgement.Failed ? next with { Verdict = judgement } : next, judgement);
    }

    /// <summary>Errors are what is counted; a success rate that must not decrease is an error rate that must not increase.</summary>
    public static JudgeDirection CountDirection(JudgeOptions options, BuiltinMetric query) => query != BuiltinMetric.SuccessRate ? options.Direction : options.Direction switch
    {
        JudgeDirection.Increase => JudgeDirection.Decrease,
        JudgeDirection.Decrease => JudgeDirection.Increase,
        _ => JudgeDirection.Either,
    };

    private static (SequentialState, MetricJudgement) Latencies(SequentialState state, string metric, JudgeOptions options, MetricValue canary, MetricValue baseline)
    {
        state = state with { Canary = state.Canary.Add(canary.Samples ?? []), Baseline = state.Baseline.Add(baseline.Samples ?? []) };
        var allowance = AllowanceOf(options);
        var evidence = DistributionTest.Compare(state.Canary, state.Baseline, options.Alpha, options.Direction, allowance);
        var cm = state.Canary.Quantile(0.5);
        var bm = state.Baseline.Quantile(0.5);
        var seen = Seen(state);
        var statistic = Statistic(0.5);
        var alpha = Percent(options.Alpha);
        var restart = state.Restarts > 0 ? " (evidence restarted when the baseline changed)" : string.Empty;
        switch (evidence.Outcome)
        {
            case SequentialOutcome.Waiting:
                return (state, new MetricJudgement(metric, MetricClass.NoData, false, false, options.Weight, null, Finite(cm), Finite(bm),
                    $"{metric}: waiting for data: {seen} so far; nothing can be told apart before about {Requests(MinimumSamples(options.Alpha))} on each side{restart}"));
            case SequentialOutcome.NoEvidence:
                var detectable = ReportedLevels.Select(p => (p, Increase: DistributionTest.DetectableIncrease(state.Baseline, state.Canary.Count, options.Alpha, allowance, p))).ToList();
                var could = detectable.Where(d => d.Increase is not null)
                    .Select(d => $"{Statistic(d.p)} above {Ms(state.Baseline.Quantile(d.p) * (1 + d.Increase!.Value))}").ToList();
                var not = detectable.Where(d => d.Increase is null).Select(d => Statistic(d.p)).ToList();
                return (state, new MetricJudgement(metric, MetricClass.Pass, false, false, options.Weight, null, Finite(cm), Finite(bm),
                    $"{metric}: canary {statistic} {Ms(cm)} vs baseline {Ms(bm)} after {seen}: no evidence of a change (anytime-valid at alpha {alpha})"
                    + (could.Count > 0 ? $"; a canary {string.Join(" or ", could)} would have been detected" : string.Empty)
                    + (not.Count > 0 ? $"; {string.Join(" and ", not)} need{(not.Count == 1 ? "s" : string.Empty)} more requests" : string.Empty) + restart));
            default:
                var higher = evidence.Outcome == SequentialOutcome.Higher;
                var at = Statistic(Math.Round(evidence.Level, 2));
                var ratio = higher ? evidence.CanaryBound / evidence.BaselineBound : evidence.BaselineBound / evidence.CanaryBound;
                var critical = options.Critical || (options.CriticalIncrease is { } c && ratio - 1 > c.Fraction);
                var allowed = Allowed(options);
                return (state, new MetricJudgement(metric, higher ? MetricClass.High : MetricClass.Low, true, critical, options.Weight, null, Finite(cm), Finite(bm),
                    string.Create(CultureInfo.InvariantCulture,
                        $"{metric}: canary {(higher ? "slower" : "faster")}{allowed}: its {at} is {(higher ? "above" : "at most")} {Ms(evidence.CanaryBound)} where the baseline's is {(higher ? "at most" : "above")} {Ms(evidence.BaselineBound)} (time-uniform bands {evidence.CanaryWidth * 100:0.##} and {evidence.BaselineWidth * 100:0.##} points wide after {seen}; false alarms at most {alpha} over the rollout){(critical ? ": critical" : string.Empty)}")));
        }
    }

    private static (SequentialState, MetricJudgement) Counts(SequentialState state, string metric, JudgeOptions options, BuiltinMetric query, MetricValue canary, MetricValue baseline)
    {
        var direction = CountDirection(options, query);
        var allowed = options.AllowedIncrease?.Fraction ?? 0;
        var batch = new CountBatch(canary.Counts?.Trials ?? 0, canary.Counts?.Events ?? 0, baseline.Counts?.Trials ?? 0, baseline.Counts?.Events ?? 0);
        var counts = state.Counts.Add(batch, direction, allowed);
        state = state with { Counts = counts };
        var e = counts.EValue;
        var threshold = 1 / options.Alpha;
        var rates = string.Create(CultureInfo.InvariantCulture,
            $"canary error rate {Rate(counts.CanaryRate)} ({counts.CanaryEvents:N0} of {counts.CanaryTrials:N0}) vs baseline {Rate(counts.BaselineRate)} ({counts.BaselineEvents:N0} of {counts.BaselineTrials:N0})");
        var evalue = string.Create(CultureInfo.InvariantCulture, $"e-value {EText(e)} {(e >= threshold ? ">=" : "<")} {threshold:0.##} = 1/alpha");
        if (e >= threshold)
        {
            var higher = counts.Leaning(direction, allowed) == SequentialOutcome.Higher;
            var ratio = higher ? counts.CanaryRate / counts.BaselineRate : counts.BaselineRate / counts.CanaryRate;
            var critical = options.Critical || (options.CriticalIncrease is { } c && (double.IsNaN(ratio) || ratio - 1 > c.Fraction));
            var valueHigher = higher == (query != BuiltinMetric.SuccessRate);
            return (state, new MetricJudgement(metric, valueHigher ? MetricClass.High : MetricClass.Low, true, critical, options.Weight, null, counts.CanaryRate, counts.BaselineRate,
                $"{metric}: {rates}: {evalue}: the canary fails {(higher ? "more" : "less")} often{(allowed > 0 ? $" by more than {options.AllowedIncrease}" : string.Empty)}{(critical ? ": critical" : string.Empty)}"));
        }

        var detectable = counts.DetectableCanaryRate(options.Alpha, allowed);
        if (detectable is null)
        {
            var why = counts.CanaryTrials == 0 || counts.BaselineTrials == 0
                ? string.Create(CultureInfo.InvariantCulture, $"{Requests(counts.CanaryTrials)} canary and {Requests(counts.BaselineTrials)} baseline requests so far")
                : $"{rates}; not even every canary request failing would be evidence yet";
            return (state, new MetricJudgement(metric, MetricClass.NoData, false, false, options.Weight, null, Finite(counts.CanaryRate), Finite(counts.BaselineRate),
                $"{metric}: waiting for data: {why}"));
        }

        return (state, new MetricJudgement(metric, MetricClass.Pass, false, false, options.Weight, null, counts.CanaryRate, counts.BaselineRate,
            $"{metric}: {rates}: {evalue}: no evidence of a change; a canary error rate of {Rate(detectable.Value)} or more would have been detected"));
    }

    private static Allowance AllowanceOf(JudgeOptions options) => new(options.AllowedIncrease?.Fraction ?? 0, options.Tolerance?.TotalSeconds ?? 0);

    private static string Allowed(JudgeOptions options) => options.AllowedIncrease is not null || options.Tolerance is not null
        ? $" by more than {string.Join(" and ", new[] { options.AllowedIncrease?.ToString(), options.Tolerance is { } t ? DurationSyntax.Format(t) : null }.OfType<string>())}"
        : string.Empty;

    private static string Seen(SequentialState state) =>
        string.Create(CultureInfo.InvariantCulture, $"{Requests(state.Canary.Count)} canary and {Requests(state.Baseline.Count)} baseline requests");

    /// <summary>How many samples each side needs before its band is narrower than a half (before the median can be told apart).</summary>
    public static long MinimumSamples(double alpha)
    {
        long n = 1;
        while (TimeUniformBand.Width(n, alpha / 2) >= 0.5)
        {
            n++;
        }

        return n;
    }

    private static double? Finite(double value) => double.IsFinite(value) ? value : null;

    private static string Statistic(double level) => level == 0.5 ? "median" : string.Create(CultureInfo.InvariantCulture, $"p{level * 100:0.#}");

    private static string Ms(double seconds) => double.IsNaN(seconds) ? "-" : ValueText.Format(seconds, QuantityKind.Duration);

    private static string Rate(double rate) => double.IsNaN(rate) ? "-" : ValueText.Format(rate, QuantityKind.Ratio);

    private static string Percent(double alpha) => string.Create(CultureInfo.InvariantCulture, $"{alpha * 100:0.##}%");

    private static string Requests(long n) => string.Create(CultureInfo.InvariantCulture, $"{n:N0}");

    private static string EText(double e) => e >= 1e6 ? e.ToString("0.0e0", CultureInfo.InvariantCulture) : e.ToString(e >= 100 ? "0" : "0.##", CultureInfo.InvariantCulture);
}
