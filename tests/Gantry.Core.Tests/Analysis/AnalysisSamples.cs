using Gantry.Core.Analysis;
using Gantry.Core.Manifest;
using Gantry.Core.Manifest.Values;

namespace Gantry.Core.Tests.Analysis;

/// <summary>Metrics, templates and measurement sequences for the evaluator's tests.</summary>
internal static class AnalysisSamples
{
    public static readonly DateTimeOffset T0 = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    public static Condition C(string text)
    {
        Condition.TryParse(text, out var c).Should().BeNull();
        return c!;
    }

    /// <summary>A p90 metric with either or both conditions.</summary>
    public static MetricSpec Metric(string? failWhen, string? passWhen = null, bool dryRun = false, string name = "p90") =>
        new(name, new BuiltinQuery(BuiltinMetric.LatencyP90, null), failWhen is null ? null : C(failWhen), passWhen is null ? null : C(passWhen), dryRun, null);

    public static AnalysisTemplate Template(int failureLimit = 0, int inconclusiveLimit = 0, int errorLimit = 4, int? successLimit = null, int? count = 3) =>
        new("slo", TimeSpan.FromSeconds(5), count, TimeSpan.Zero, failureLimit, inconclusiveLimit, errorLimit, successLimit, ScoreThresholds.Default, []);

    /// <summary>A metric fed measurements in the phases of <paramref name="phases"/>: S, F, I, E.</summary>
    public static MetricResult Feed(AnalysisTemplate template, string phases, bool dryRun = false)
    {
        var result = MetricResult.Start(Metric("> 1ms", dryRun: dryRun));
        var i = 0;
        foreach (var c in phases)
        {
            var phase = c switch { 'F' => AnalysisPhase.Failed, 'I' => AnalysisPhase.Inconclusive, 'E' => AnalysisPhase.Error, _ => AnalysisPhase.Successful };
            result = AnalysisEvaluator.Add(result, new MetricMeasurement(T0.AddSeconds(i++), phase, 1, null, c.ToString()), template, template.Count ?? int.MaxValue);
        }

        return result;
    }
}
