using Gantry.Core.Manifest.Values;

namespace Gantry.Core.Manifest;

/// <summary>Reading a metric's judge, and what a judge may compare.</summary>
internal sealed partial class ManifestReader
{
    /// <summary>Template references of canaries that compare with the stable set rather than a fresh baseline.</summary>
    private readonly List<(string Name, SourcePosition At)> stableComparisons = [];

    private JudgeOptions ReadJudge(MapReader m)
    {
        var method = m.Enum<JudgeMethod>("method") ?? JudgeMethod.Fixed;
        if (method == JudgeMethod.Sequential && m.Has("confidence"))
        {
            ctx.Error(m.KeyPositionOf("confidence"), "the sequential judge takes 'alpha' (the false-alarm probability over the whole rollout), not 'confidence'");
        }
        else if (method == JudgeMethod.Fixed && m.Has("alpha"))
        {
            ctx.Error(m.KeyPositionOf("alpha"), "'alpha' is for 'method: sequential'; the fixed judge takes 'confidence'");
        }

        if (method == JudgeMethod.Sequential && m.Has("outliers"))
        {
            ctx.Error(m.KeyPositionOf("outliers"), "the sequential judge keeps every request: its bands hold whatever the tails look like");
        }

        if (method == JudgeMethod.Sequential && m.Has("mustHaveData"))
        {
            ctx.Error(m.KeyPositionOf("mustHaveData"), "the sequential judge waits while data is short (its measurements are Pending, not counted); 'mustHaveData' is the fixed judge's");
        }

        return new JudgeOptions(
            m.Enum<JudgeDirection>("direction") ?? JudgeDirection.Increase,
            m.Number("confidence") ?? 0.98,
            m.Percent("allowedIncrease"),
            m.Percent("criticalIncrease"),
            m.Bool("mustHaveData") ?? true,
            m.Enum<OutlierHandling>("outliers") ?? OutlierHandling.Keep,
            m.Number("weight") ?? 1,
            m.Bool("critical") ?? false,
            m.Duration("tolerance"),
            method,
            m.Number("alpha") ?? 0.05);
    }

    /// <summary>What each method can judge: the fixed judge latency samples; the sequential one the builtin latencies and error counts.</summary>
    private void CheckJudgedQuery(MapReader m, MetricQuery? query, JudgeOptions? judge)
    {
        if (judge is null || query is null)
        {
            return;
        }

        var at = m.KeyPositionOf("judge");
        if (judge.Method == JudgeMethod.Sequential)
        {
            if (query is not BuiltinQuery b)
            {
                ctx.Error(at, $"the sequential judge needs requests it sees only once: the builtin provider's latencies or error counts, not a {query.Provider} query");
            }
            else if (b.Metric is BuiltinMetric.RequestRate or BuiltinMetric.Cpu or BuiltinMetric.Memory)
            {
                ctx.Error(at, $"the sequential judge compares latencies (latency, latency_p50 ... latency_p99) or error counts (error_rate, success_rate), not {BuiltinName(b.Metric)}");
            }
            else if (b.ValueKind == QuantityKind.Ratio && judge.Tolerance is not null)
            {
                ctx.Error(ctx.Positions.Find(m.Child("judge") + ".tolerance") ?? at, "'tolerance' is a duration for latencies; an error rate's judge takes 'allowedIncrease'");
            }

            return;
        }

        if (query is BuiltinQuery builtin && builtin.ValueKind != QuantityKind.Duration)
        {
            ctx.Error(at, $"the fixed judge compares latency samples: judge 'latency' (the whole distribution) or a percentile such as latency_p99; judge {BuiltinName(builtin.Metric)} with 'method: sequential' or compare it in a condition (such as failWhen: \"> baseline + 5%\")");
        }
    }

    /// <summary>Remembers the templates a canary compares with its stable set (not a fresh baseline), for <see cref="CheckLikeForLike"/>.</summary>
    private void NoteComparisons(CanaryStrategy strategy, int firstRef)
    {
        if (strategy.Baseline == CanaryBaseline.Stable)
        {
            stableComparisons.AddRange(templateRefs.Skip(firstRef));
        }
    }

    /// <summary>
    /// Warns where a judge compares a canary with the stable set: the canary's instances carry another share of the load
    /// than the stable ones (at 50% one canary instance takes as much as two stable ones), so a healthy canary differs
    /// for a reason that has nothing to do with its release. A fresh baseline is of the canary's size and weight.
    /// </summary>
    private void CheckLikeForLike(IEnumerable<AnalysisTemplate> templates)
    {
        var judged = templates.Where(t => t.Metrics.Any(m => m.Judge is not null)).Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var (name, at) in stableComparisons.Where(r => judged.Contains(r.Name)).DistinctBy(r => r.At))
        {
            ctx.Warning(at, $"analysis template '{name}' judges the canary against the stable set, whose instances carry another share of the load; "
                + "set 'baseline: fresh' on the canary to compare it with instances of the stable release at its own size and weight");
        }
    }
}
