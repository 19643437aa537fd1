using System.Globalization;
using Gantry.Core.Manifest;
using Gantry.Core.Manifest.Values;

namespace Gantry.Server.Analysis;

/// <summary>One metric's outcome in one measurement.</summary>
public enum MetricOutcome
{
    Pass,
    Fail,
    Error,
    NoData,
}

/// <summary>One metric's outcome, with a sentence a person can read.</summary>
public sealed record MetricVerdict(string Metric, MetricOutcome Outcome, string Sentence, bool DryRun = false);

/// <summary>
/// Judges measured traffic with a manifest's analysis conditions (builtin queries only): the candidate's
/// value against the threshold, or against the baseline's value measured in the same run.
/// </summary>
public static class BuiltinJudge
{
    /// <summary>Judges a template's metrics; <paramref name="candidate"/> and <paramref name="baseline"/> measure a builtin metric.</summary>
    public static IEnumerable<MetricVerdict> Judge(AnalysisTemplate template, Func<BuiltinMetric, double> candidate, Func<BuiltinMetric, double> baseline)
    {
        foreach (var metric in template.Metrics)
        {
            if (metric.Query is not BuiltinQuery { Metric: not BuiltinMetric.Latency } query || (metric.FailWhen is null && metric.PassWhen is null))
            {
                yield return new MetricVerdict(metric.Name, MetricOutcome.Error, metric.Judge is not null
                    ? "the statistical judge is not available yet: only builtin thresholds are judged"
                    : $"the {metric.Query.Provider} provider is not available yet: only builtin thresholds are judged", metric.DryRun);
                continue;
            }

            var value = candidate(query.Metric);
            var base_ = baseline(query.Metric);
            if (double.IsNaN(value) || (metric.FailWhen ?? metric.PassWhen)!.UsesBaseline && double.IsNaN(base_))
            {
                yield return new MetricVerdict(metric.Name, MetricOutcome.NoData, $"{Name(query.Metric)}: no requests measured{(double.IsNaN(value) ? string.Empty : " on the baseline")}", metric.DryRun);
                continue;
            }

            var name = Name(query.Metric);
            var failed = metric.FailWhen is { } f && f.IsMetBy(value, base_);
            var notPassed = metric.PassWhen is { } p && !p.IsMetBy(value, base_);
            var condition = metric.FailWhen ?? metric.PassWhen!;
            var shown = condition.UsesBaseline
                ? $"{name} {Format(value, query.ValueKind)} vs baseline {Format(base_, query.ValueKind)}"
                : $"{name} {Format(value, query.ValueKind)}";
            if (failed || notPassed)
            {
                var rule = failed ? $"{metric.FailWhen}" : $"not {metric.PassWhen}";
                yield return new MetricVerdict(metric.Name, MetricOutcome.Fail, $"{shown}: {rule}", metric.DryRun);
            }
            else
            {
                var rule = metric.FailWhen is { } ff ? $"fails when {ff}" : $"passes when {metric.PassWhen}";
                yield return new MetricVerdict(metric.Name, MetricOutcome.Pass, $"{shown}, {rule}", metric.DryRun);
            }
        }
    }

    /// <summary>A builtin metric read from the router's measurements of one group over a window.</summary>
    public static double Measure(BuiltinMetric metric, Gantry.Proxy.Metrics.TrafficSnapshot s, TimeSpan window) => metric switch
    {
        not BuiltinMetric.RequestRate when s.Requests == 0 => double.NaN,
        BuiltinMetric.ErrorRate => s.ErrorRate,
        BuiltinMetric.SuccessRate => 1 - s.ErrorRate,
        BuiltinMetric.RequestRate => s.Requests / window.TotalSeconds,
        BuiltinMetric.LatencyP50 => s.P50,
        BuiltinMetric.LatencyP90 => s.P90,
        BuiltinMetric.LatencyP95 => s.P95,
        _ => s.P99,
    };

    private static string Name(BuiltinMetric metric) => metric switch
    {
        BuiltinMetric.ErrorRate => "error rate",
        BuiltinMetric.SuccessRate => "success rate",
        BuiltinMetric.RequestRate => "requests",
        BuiltinMetric.LatencyP50 => "p50 latency",
        BuiltinMetric.LatencyP90 => "p90 latency",
        BuiltinMetric.LatencyP95 => "p95 latency",
        _ => "p99 latency",
    };

    public static string Format(double value, QuantityKind kind) => kind switch
    {
        QuantityKind.Ratio => (value * 100).ToString("0.00", CultureInfo.InvariantCulture) + "%",
        QuantityKind.Duration => Milliseconds(value),
        _ => value.ToString("0.##", CultureInfo.InvariantCulture),
    };

    public static string Milliseconds(double seconds) =>
        (seconds * 1000).ToString(seconds < 0.01 ? "0.0" : "0", CultureInfo.InvariantCulture) + " ms";
}
