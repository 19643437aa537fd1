using Gantry.Core.Analysis;
using Gantry.Core.Analysis.Judge;
using Gantry.Core.Analysis.Statistics;
using Gantry.Core.Manifest;
using Gantry.Core.Manifest.Values;

namespace Gantry.Core.Tests.Analysis;

/// <summary>
/// Cases from Kayenta's judge (spinnaker/kayenta: kayenta-judge MannWhitneyClassifierSuite, ScorerSuite and the
/// Mann-Whitney suite, which follows R's wilcox.test): the same samples give the same classes and scores.
/// </summary>
public sealed class KayentaSemanticsTests
{
    private static JudgeOptions Options(bool mustHaveData = false, bool critical = false, Percentage? allowed = null) =>
        new(JudgeDirection.Increase, 0.95, allowed, null, mustHaveData, OutlierHandling.Keep, 1, critical);

    // MannWhitneySuite / R: wilcox.test(c(10,20,30,40), c(1,2,3,4), conf.int = TRUE) gives [6, 39]: the c-th and
    // (m + 1 - c)-th of the 16 ordered differences, c counted from 1.
    [Fact(Timeout = 10_000)]
    public void HodgesLehmannInterval_IsTheCthOrderedDifference_CountedFromOne()
    {
        var estimate = MannWhitney.Compare([10, 20, 30, 40], [1, 2, 3, 4], 0.95);
        (estimate.Lower, estimate.Upper, estimate.Shift).Should().Be((6, 39, 22.5));
    }

    // MannWhitneyClassifierSuite, zero-inflated series: 64 of 210 canary values non-zero against 17 of 210 baseline
    // values is High, as the rank test says, though the interval of the shift is [0, 0].
    [Fact(Timeout = 10_000)]
    public void ZeroInflatedSeries_ClassifiedAsTheRankTestSays()
    {
        double[] Series(int nonZero) => [.. Enumerable.Range(0, 210).Select(i => i < nonZero ? 1.0 + (i % 5) : 0.0)];
        var judged = CanaryJudge.JudgeMetric("errors", Options(), Series(64), Series(17), QuantityKind.Number);

        judged.Estimate!.PValue.Should().BeLessThan(1e-6);
        (judged.Estimate.Lower, judged.Estimate.Upper).Should().Be((0, 0), "most pairs tie at zero");
        judged.Class.Should().Be(MetricClass.High);
        judged.Failed.Should().BeTrue();
        judged.Sentence.Should().Contain("the interval is degenerate (most values tie), the rank test decides: higher than the baseline");

        CanaryJudge.JudgeMetric("errors", Options(), Series(17), Series(17), QuantityKind.Number).Class.Should().Be(MetricClass.Pass, "the same series is no difference");
    }

    // ScorerSuite: a critical metric with no data fails the canary; a judgement where no metric had data is not a pass.
    [Fact(Timeout = 10_000)]
    public void NoData_CriticalFails_AndAllNoDataIsNotAPass()
    {
        var critical = CanaryJudge.JudgeMetric("latency", Options(critical: true), [], [0.1, 0.2], QuantityKind.Duration);
        (critical.Class, critical.Failed, critical.CriticalFailure).Should().Be((MetricClass.NoData, true, true));
        var passing = CanaryJudge.JudgeMetric("errors", Options(), [1, 1, 1], [1, 1, 1], QuantityKind.Number);
        var judgement = CanaryJudge.Score([critical, passing], ScoreThresholds.Default);
        judgement.Outcome.Should().Be(JudgementOutcome.Fail);
        judgement.Summary.Should().EndWith("; critical metric latency had no data");

        var quiet = CanaryJudge.JudgeMetric("latency", Options(), [], [], QuantityKind.Duration);
        (quiet.Class, quiet.Failed).Should().Be((MetricClass.NoData, false));
        var empty = CanaryJudge.Score([quiet, CanaryJudge.JudgeMetric("errors", Options(), [], [], QuantityKind.Number)], ScoreThresholds.Default);
        (empty.Score, empty.Outcome).Should().Be((0, JudgementOutcome.Fail));
        empty.Summary.Should().Be("score 0 (pass 95, marginal 75): fail; no metric had data");
    }
}
