using Gantry.Core.Analysis;
using Gantry.Core.Manifest;
using Gantry.Core.Manifest.Values;
using static Gantry.Core.Tests.Analysis.AnalysisSamples;

namespace Gantry.Core.Tests.Analysis;

/// <summary>
/// Cases from Argo Rollouts' own tests (argoproj/argo-rollouts: analysis/analysis_test.go,
/// utils/evaluate/evaluate_test.go, metricproviders/prometheus/prometheus_test.go) and its documented table of
/// limits, run through Gantry's evaluator: the same measurements give the same phases.
/// </summary>
public sealed class ArgoSemanticsTests
{
    // analysis/analysis_test.go, TestRunMeasurementsResetConsecutiveErrorCounter and the error handling of runMeasurements:
    // an Error is not counted; consecutiveErrorLimit + 1 errors in a row end the metric in Error.
    [Theory(Timeout = 10_000)]
    [InlineData("SEE", 3, 4, "Running", 1)]
    [InlineData("SEESS", 3, 4, "Successful", 3)]
    [InlineData("EEEEE", 3, 4, "Error", 0)]
    [InlineData("EEEE", 3, 4, "Running", 0)]
    [InlineData("EESEE", 10, 2, "Running", 1)]
    [InlineData("E", 1, 0, "Error", 0)]
    [InlineData("ES", 1, 4, "Successful", 1)]
    public void Errors_AreNotEvidence_OnlyAStreakPastTheLimitEndsInError(string phases, int count, int errorLimit, string expected, int counted)
    {
        var result = Feed(Template(count: count, errorLimit: errorLimit), phases);
        (result.Phase.ToString(), result.Count).Should().Be((expected, counted));
    }

    // docs/features/analysis.md, consecutiveSuccessLimit: a requirement, met early or missed at count.
    [Theory(Timeout = 10_000)]
    [InlineData("SS", 5, 0, 2, "Successful")]
    [InlineData("SFSSS", 5, 1, 3, "Successful")]
    [InlineData("SFSFS", 5, 2, 2, "Inconclusive")]
    [InlineData("FFFFS", 5, -1, 2, "Failed")]
    [InlineData("FFFSS", 5, -1, 2, "Successful")]
    [InlineData("FFFFFFFF", null, -1, 3, "Running")]
    public void ConsecutiveSuccessLimit_IsARequirement(string phases, int? count, int failureLimit, int streak, string expected)
    {
        Feed(Template(count: count, failureLimit: failureLimit, successLimit: streak), phases).Phase.ToString().Should().Be(expected);
    }

    // utils/evaluate/evaluate_test.go, TestEvaluateResultWithSuccessAndFailure: between the two conditions is Inconclusive.
    [Theory(Timeout = 10_000)]
    [InlineData(0.100, "Successful")]
    [InlineData(0.300, "Inconclusive")]
    [InlineData(0.600, "Failed")]
    public void FailWhenAndPassWhen_TheBandBetweenIsInconclusive(double seconds, string expected)
    {
        var m = AnalysisEvaluator.Judge(Metric("> 500ms", "< 200ms", name: "m"), MetricValue.Of(seconds), null, QuantityKind.Duration, [], T0);
        m.Phase.ToString().Should().Be(expected);
        if (expected == "Inconclusive")
        {
            m.Sentence.Should().Be("m: 300 ms meets neither failWhen > 500ms nor passWhen < 200ms");
        }
    }

    // metricproviders/prometheus/prometheus_test.go, TestRunSuccessfulEvaluationWithInfResult (+Inf) and NaN results.
    [Fact(Timeout = 10_000)]
    public void Infinity_IsAValue_NaN_IsNoData()
    {
        var inf = AnalysisEvaluator.Judge(Metric("> 500ms", name: "m"), MetricValue.Of(double.PositiveInfinity), null, QuantityKind.Duration, [], T0);
        (inf.Phase, inf.Sentence).Should().Be((AnalysisPhase.Failed, "m: +Inf exceeds 500ms"));
        AnalysisEvaluator.Judge(Metric(null, ">= 99%", name: "m"), MetricValue.Of(double.PositiveInfinity), null, QuantityKind.Ratio, [], T0).Phase.Should().Be(AnalysisPhase.Successful);
        AnalysisEvaluator.Judge(Metric("> 500ms", name: "m"), MetricValue.Of(double.NaN), null, QuantityKind.Duration, [], T0).Phase.Should().Be(AnalysisPhase.Inconclusive, "NaN (0/0: no requests) is no data");
    }

    // analysis/analysis_test.go, TestAssessRunStatusWithDryRun...: dry-run metrics measure their full count, never decide.
    [Fact(Timeout = 10_000)]
    public void DryRun_MeasuresItsFullCount_AndNeverDecides()
    {
        var template = Template(count: 3);
        AnalysisEvaluator.RunPhase([Feed(template, "S", dryRun: true)]).Should().Be(AnalysisPhase.Running, "a template of dry-run metrics is a trial: it measures on");
        AnalysisEvaluator.RunPhase([Feed(template, "SSS", dryRun: true)]).Should().Be(AnalysisPhase.Successful);
        AnalysisEvaluator.RunPhase([Feed(template, "F", dryRun: true)]).Should().Be(AnalysisPhase.Successful, "a dry-run metric that failed never decides");
        AnalysisEvaluator.RunPhase([Feed(template, "SSS"), Feed(template, "SS", dryRun: true)]).Should().Be(AnalysisPhase.Running);
        AnalysisEvaluator.RunPhase([Feed(template, "F"), Feed(template, "S", dryRun: true)]).Should().Be(AnalysisPhase.Failed, "a real failure decides at once");
        AnalysisEvaluator.Terminated(Feed(template, "S", dryRun: true)).Phase.Should().Be(AnalysisPhase.Successful, "a metric cut off by the run's end is not left Running");
    }
}
