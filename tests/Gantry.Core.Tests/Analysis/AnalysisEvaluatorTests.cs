using Gantry.Core.Analysis;
using Gantry.Core.Manifest;
using Gantry.Core.Manifest.Values;
using static Gantry.Core.Tests.Analysis.AnalysisSamples;

namespace Gantry.Core.Tests.Analysis;

public sealed class AnalysisEvaluatorTests
{
    private static MetricSpec Metric(string failWhen, string? passWhen = null, bool dryRun = false) =>
        AnalysisSamples.Metric(passWhen is null ? failWhen : null, passWhen, dryRun);

    private static MetricMeasurement Judge(MetricSpec spec, double? value, double? baseline = null, IReadOnlyList<MetricMeasurement>? earlier = null, DateTimeOffset? at = null) =>
        AnalysisEvaluator.Judge(spec, value is { } v ? MetricValue.Of(v) : MetricValue.NoData("no requests"), baseline is { } b ? MetricValue.Of(b) : null, QuantityKind.Duration, earlier ?? [], at ?? T0);

    [Fact(Timeout = 10_000)]
    public void Judge_AbsoluteThreshold_PassesAndFailsWithASentence()
    {
        Judge(Metric("> 200ms"), 0.150).Should().Match<MetricMeasurement>(m => m.Phase == AnalysisPhase.Successful && m.Sentence == "p90: 150 ms, fails when > 200ms");
        Judge(Metric("> 200ms"), 0.231).Should().Match<MetricMeasurement>(m => m.Phase == AnalysisPhase.Failed && m.Sentence == "p90: 231 ms exceeds 200ms");
        Judge(Metric("> 1%", passWhen: "< 200ms"), 0.250).Sentence.Should().Be("p90: 250 ms is not < 200ms");
    }

    [Fact(Timeout = 10_000)]
    public void Judge_BaselineRelative_ComparesWithTheBaselineMeasuredTogether()
    {
        var m = Judge(Metric("> baseline + 100ms"), 0.231, 0.118);
        m.Phase.Should().Be(AnalysisPhase.Failed);
        m.Sentence.Should().Be("p90: canary 231 ms vs baseline 118 ms (+113 ms) exceeds baseline + 100ms");
        Judge(Metric("> baseline * 1.1"), 0.125, 0.118).Phase.Should().Be(AnalysisPhase.Successful);
        Judge(Metric("> baseline * 1.1"), 0.125, null).Phase.Should().Be(AnalysisPhase.Error, "a baseline condition without a baseline measurement");
    }

    [Fact(Timeout = 10_000)]
    public void Judge_NoDataAndErrors_AreInconclusiveAndError()
    {
        Judge(Metric("> 200ms"), null).Phase.Should().Be(AnalysisPhase.Inconclusive);
        var error = AnalysisEvaluator.Judge(Metric("> 200ms"), MetricValue.Failed("prometheus: connection refused"), null, QuantityKind.Duration, [], T0);
        error.Should().Match<MetricMeasurement>(m => m.Phase == AnalysisPhase.Error && m.Sentence == "p90: prometheus: connection refused");
    }

    [Fact(Timeout = 10_000)]
    public void Judge_SustainedCondition_FailsOnlyAfterHoldingForTheWholeDuration()
    {
        var spec = Metric("> 2000ms for 5m");
        var earlier = new List<MetricMeasurement>();
        for (var minute = 0; minute < 5; minute++)
        {
            var m = Judge(spec, 2.5, earlier: earlier, at: T0.AddMinutes(minute));
            m.Phase.Should().Be(AnalysisPhase.Running, $"above the threshold for {minute} min only");
            earlier.Add(m);
        }

        earlier[^1].Sentence.Should().Be("p90: 2500 ms meets > 2s for 5m for 4m so far");
        Judge(spec, 2.5, earlier: earlier, at: T0.AddMinutes(5)).Phase.Should().Be(AnalysisPhase.Failed);

        // A dip below the threshold starts the clock again.
        earlier.Add(Judge(spec, 1.0, earlier: earlier, at: T0.AddMinutes(5)));
        Judge(spec, 2.5, earlier: earlier, at: T0.AddMinutes(9)).Phase.Should().Be(AnalysisPhase.Running);
    }

    [Theory(Timeout = 10_000)]
    [InlineData(0, "F", "Failed")]
    [InlineData(1, "F", "Running")]
    [InlineData(1, "FF", "Failed")]
    [InlineData(1, "FSS", "Successful")]
    public void Add_FailureLimit_DecidesWhenFailuresFailTheMetric(int limit, string phases, string expected)
    {
        var result = Feed(Template(failureLimit: limit), phases);
        result.Phase.ToString().Should().Be(expected);
    }

    [Fact(Timeout = 10_000)]
    public void Add_Limits_InconclusiveErrorsAndSuccessStreaks()
    {
        Feed(Template(inconclusiveLimit: 1), "II").Phase.Should().Be(AnalysisPhase.Inconclusive);
        Feed(Template(errorLimit: 2), "EEE").Phase.Should().Be(AnalysisPhase.Error);
        Feed(Template(errorLimit: 2, count: 10), "EESEE").Phase.Should().Be(AnalysisPhase.Running, "a success breaks the error streak");
        Feed(Template(successLimit: 2, count: null), "SS").Phase.Should().Be(AnalysisPhase.Successful);
        Feed(Template(count: 3), "SS").Phase.Should().Be(AnalysisPhase.Running);
        Feed(Template(count: 2), "EE").Phase.Should().Be(AnalysisPhase.Running, "errors are not evidence: nothing counted yet, retried");
        Feed(Template(count: 2), "ES").Phase.Should().Be(AnalysisPhase.Running, "one measurement counted of two");
        Feed(Template(count: 2), "ESS").Should().Match<MetricResult>(r => r.Phase == AnalysisPhase.Successful && r.Count == 2 && r.Errors == 1);
        Feed(Template(count: 3), "SSS").Should().Match<MetricResult>(r => r.Phase == AnalysisPhase.Successful && r.Count == 3 && r.Successful == 3);
    }

    [Fact(Timeout = 10_000)]
    public void RunPhase_WorstMetric_ExceptDryRuns()
    {
        MetricResult R(AnalysisPhase p, bool dry = false) => MetricResult.Start(Metric("> 1ms", dryRun: dry)) with { Phase = p };
        AnalysisEvaluator.RunPhase([R(AnalysisPhase.Successful), R(AnalysisPhase.Inconclusive), R(AnalysisPhase.Running)]).Should().Be(AnalysisPhase.Inconclusive);
        AnalysisEvaluator.RunPhase([R(AnalysisPhase.Error), R(AnalysisPhase.Failed)]).Should().Be(AnalysisPhase.Failed);
        AnalysisEvaluator.RunPhase([R(AnalysisPhase.Successful), R(AnalysisPhase.Failed, dry: true)]).Should().Be(AnalysisPhase.Successful);
        AnalysisEvaluator.RunPhase([R(AnalysisPhase.Successful), R(AnalysisPhase.Running, dry: true)]).Should().Be(AnalysisPhase.Running, "a dry-run metric measures its full count");
    }
}
