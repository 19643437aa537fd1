using System.Globalization;
using Gantry.Core.Manifest;
using Gantry.Core.Manifest.Values;

namespace Gantry.Core.Analysis;

/// <summary>One measurement of one metric: its phase, the values compared, and a sentence saying why.</summary>
public sealed record MetricMeasurement(DateTimeOffset At, AnalysisPhase Phase, double? Value, double? Baseline, string Sentence);

/// <summary>A metric's state in a run: counts by phase, streaks, and its own phase under the template's limits.</summary>
public sealed record MetricResult(
    string Name,
    bool DryRun,
    AnalysisPhase Phase,
    int Count,
    int Successful,
    int Failed,
    int Inconclusive,
    int Errors,
    int ConsecutiveErrors,
    int ConsecutiveSuccesses,
    ValueList<MetricMeasurement> Measurements)
{
    public static MetricResult Start(MetricSpec spec) => new(spec.Name, spec.DryRun, AnalysisPhase.Running, 0, 0, 0, 0, 0, 0, 0, []);

    public string? LastSentence => Measurements.IsEmpty ? null : Measurements[^1].Sentence;
}

/// <summary>
/// Analysis with the Argo Rollouts semantics, as pure functions: a measurement is judged against the
/// metric's conditions (absolute, relative to the baseline measured at the same time, sustained for a
/// duration); each metric's phase follows failureLimit, inconclusiveLimit, consecutiveErrorLimit,
/// consecutiveSuccessLimit and count; the run's phase is the worst phase of the metrics that are not dry runs.
/// As in Argo, an Error measurement is not evidence: it does not count towards <c>count</c> (it is retried), and only
/// more than <c>consecutiveErrorLimit</c> errors in a row end the metric in Error. A value meeting neither
/// <c>failWhen</c> nor <c>passWhen</c> (both given) is Inconclusive; +Inf is a value (a histogram quantile past its
/// largest bucket), NaN is no data.
/// </summary>
public static class AnalysisEvaluator
{
    /// <summary>Judges one measurement of a threshold metric (failWhen / passWhen).</summary>
    public static MetricMeasurement Judge(MetricSpec spec, MetricValue candidate, MetricValue? baseline, QuantityKind kind, IReadOnlyList<MetricMeasurement> earlier, DateTimeOffset now)
    {
        var condition = spec.FailWhen ?? spec.PassWhen ?? throw new InvalidOperationException($"metric {spec.Name} has no condition");
        var name = spec.Name;
        if (candidate.Error is { } error && candidate.Samples is null)
        {
            return new MetricMeasurement(now, AnalysisPhase.Error, null, null, $"{name}: {error}");
        }

        if (!candidate.HasValue)
        {
            return new MetricMeasurement(now, AnalysisPhase.Inconclusive, null, null, $"{name}: no data ({candidate.Error ?? "nothing measured"})");
        }

        var value = candidate.Value!.Value;
        double? b = null;
        if (condition.UsesBaseline)
        {
            if (baseline is null || (baseline.Error is { } be && baseline.Samples is null))
            {
                return new MetricMeasurement(now, AnalysisPhase.Error, value, null, $"{name}: the baseline could not be measured{(baseline?.Error is { } e ? ": " + e : string.Empty)}");
            }

            if (!baseline.HasValue)
            {
                return new MetricMeasurement(now, AnalysisPhase.Inconclusive, value, null, $"{name}: no data for the baseline");
            }

            b = baseline.Value!.Value;
        }

        var shown = b is { } bv
            ? $"{name}: canary {ValueText.Format(value, kind)} vs baseline {ValueText.Format(bv, kind)} ({ValueText.WithSign(value - bv, kind)})"
            : $"{name}: {ValueText.Format(value, kind)}";
        var failing = spec.FailWhen is { } f ? f.IsMetBy(value, b) : !spec.PassWhen!.IsMetBy(value, b);
        if (!failing && spec.FailWhen is not null && spec.PassWhen is { } pass && !pass.IsMetBy(value, b))
        {
            // Argo's band between the two conditions: neither failing nor passing is for a person to judge.
            return new MetricMeasurement(now, AnalysisPhase.Inconclusive, value, b, $"{shown} meets neither failWhen {spec.FailWhen} nor passWhen {pass}");
        }

        var rule = spec.FailWhen is not null ? $"{spec.FailWhen}" : $"not {spec.PassWhen}";
        if (failing && condition.For is { } sustained)
        {
            // Sustained: failing only once the condition has held at every measurement for the whole duration.
            var since = now;
            for (var i = earlier.Count - 1; i >= 0 && earlier[i].Phase is AnalysisPhase.Failed or AnalysisPhase.Running; i--)
            {
                since = earlier[i].At;
            }

            if (now - since < sustained)
            {
                return new MetricMeasurement(now, AnalysisPhase.Running, value, b,
                    string.Create(CultureInfo.InvariantCulture, $"{shown} {(spec.FailWhen is null ? "fails" : "meets")} {condition} for {DurationSyntax.Format(now - since)} so far"));
            }
        }

        return failing
            ? new MetricMeasurement(now, AnalysisPhase.Failed, value, b, $"{shown} {Breach(spec)}")
            : new MetricMeasurement(now, AnalysisPhase.Successful, value, b, $"{shown}, {(spec.FailWhen is { } ff ? $"fails when {ff}" : $"passes when {spec.PassWhen}")}");
    }

    /// <summary>How a failing value breaks its rule: "exceeds baseline + 100ms", "is below 99.9%", "is not &lt; 200ms".</summary>
    private static string Breach(MetricSpec spec)
    {
        if (spec.FailWhen is not { } fail)
        {
            return $"is not {spec.PassWhen}";
        }

        var text = fail.ToString();
        var rhs = text[(text.IndexOf(' ', StringComparison.Ordinal) + 1)..];
        return fail.Operator switch
        {
            ComparisonOperator.GreaterThan or ComparisonOperator.GreaterThanOrEqual => $"exceeds {rhs}",
            ComparisonOperator.LessThan or ComparisonOperator.LessThanOrEqual => $"is below {rhs}",
            _ => $"meets failWhen {fail}",
        };
    }

    /// <summary>Adds a measurement to a metric and decides its phase under the template's limits.</summary>
    public static MetricResult Add(MetricResult metric, MetricMeasurement m, AnalysisTemplate template, int count)
    {
        var error = m.Phase == AnalysisPhase.Error;

        // A sequential judge still waiting for data (Pending) has measured nothing: not counted, streaks as they were.
        var waiting = m.Phase == AnalysisPhase.Pending;
        var r = metric with
        {
            // An error is not evidence: it is not counted towards count, and leaves the success streak as it was.
            Count = metric.Count + (error || waiting ? 0 : 1),
            Successful = metric.Successful + (m.Phase == AnalysisPhase.Successful ? 1 : 0),
            Failed = metric.Failed + (m.Phase == AnalysisPhase.Failed ? 1 : 0),
            Inconclusive = metric.Inconclusive + (m.Phase == AnalysisPhase.Inconclusive ? 1 : 0),
            Errors = metric.Errors + (error ? 1 : 0),
            ConsecutiveErrors = error ? metric.ConsecutiveErrors + 1 : waiting ? metric.ConsecutiveErrors : 0,
            ConsecutiveSuccesses = m.Phase == AnalysisPhase.Successful ? metric.ConsecutiveSuccesses + 1 : error || waiting ? metric.ConsecutiveSuccesses : 0,
            Measurements = [.. metric.Measurements, m],
        };
        var streak = template.ConsecutiveSuccessLimit;
        var phase = template.FailureLimit >= 0 && r.Failed > template.FailureLimit ? AnalysisPhase.Failed
            : r.Inconclusive > template.InconclusiveLimit ? AnalysisPhase.Inconclusive
            : r.ConsecutiveErrors > template.ConsecutiveErrorLimit ? AnalysisPhase.Error
            : streak is { } s && r.ConsecutiveSuccesses >= s ? AnalysisPhase.Successful
            : r.Count >= count && streak is not null ? (template.FailureLimit < 0 ? AnalysisPhase.Failed : AnalysisPhase.Inconclusive)
            : r.Count >= count ? AnalysisPhase.Successful
            : AnalysisPhase.Running;
        return r with { Phase = phase };
    }

    /// <summary>
    /// The run's phase: the worst phase of its metrics (dry-run metrics never count). A metric that failed, erred or is
    /// inconclusive decides at once; otherwise the run goes on while any metric, dry-run ones included, still measures.
    /// </summary>
    public static AnalysisPhase RunPhase(IEnumerable<MetricResult> metrics)
    {
        var all = metrics.ToList();
        var counted = all.Where(m => !m.DryRun).Select(m => m.Phase).ToList();
        var worst = counted.Count == 0 ? AnalysisPhase.Successful : counted.MaxBy(Severity);
        return Severity(worst) > Severity(AnalysisPhase.Running) ? worst
            : all.Any(m => m.Phase is AnalysisPhase.Running or AnalysisPhase.Pending) ? AnalysisPhase.Running
            : worst;
    }

    /// <summary>A metric still measuring when its run ended (another metric decided it): Successful, as Argo ends it.</summary>
    public static MetricResult Terminated(MetricResult metric) => metric.Phase is AnalysisPhase.Running or AnalysisPhase.Pending
        ? metric with { Phase = AnalysisPhase.Successful }
        : metric;

    /// <summary>Successful &lt; Pending &lt; Running &lt; Inconclusive &lt; Error &lt; Failed.</summary>
    public static int Severity(AnalysisPhase phase) => phase switch
    {
        AnalysisPhase.Successful => 0,
        AnalysisPhase.Pending => 1,
        AnalysisPhase.Running => 2,
        AnalysisPhase.Inconclusive => 3,
        AnalysisPhase.Error => 4,
        _ => 5,
    };
}
