using Gantry.Core.Analysis;
using Gantry.Core.Analysis.Judge;
using Gantry.Core.Manifest;
using Gantry.Core.Manifest.Values;

namespace Gantry.Core.Tests.Analysis;

public sealed class CanaryJudgeTests
{
    private static readonly JudgeOptions Increase = new(JudgeDirection.Increase, 0.98, new Percentage(10), null, false, OutlierHandling.Keep, 1, false);

    private static double[] Latencies(double center, int count, int seed)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, count).Select(_ => center * (0.9 + (random.NextDouble() * 0.2)))];
    }

    [Fact(Timeout = 10_000)]
    public void JudgeMetric_LatencyUpByAThird_IsHighWithItsEvidence()
    {
        var j = CanaryJudge.JudgeMetric("latency", Increase, Latencies(0.160, 300, 1), Latencies(0.120, 300, 2), QuantityKind.Duration);

        j.Class.Should().Be(MetricClass.High);
        j.Failed.Should().BeTrue();
        j.Estimate!.Shift.Should().BeApproximately(0.040, 0.004);
        j.Sentence.Should().MatchRegex(@"^latency: canary median 1[56]\d ms vs baseline 1[12]\d ms \(\+\d\d ms, 98% CI \[\d\d, \d\d\] ms, p = 0\): higher than the baseline by more than 10%$");
    }

    [Fact(Timeout = 10_000)]
    public void JudgeMetric_ShiftWithinAllowedIncrease_Passes()
    {
        var j = CanaryJudge.JudgeMetric("latency", Increase, Latencies(0.125, 300, 3), Latencies(0.120, 300, 4), QuantityKind.Duration);
        j.Class.Should().Be(MetricClass.Pass, "a 4% shift is inside the allowed 10%");
        j.Failed.Should().BeFalse();
    }

    [Fact(Timeout = 10_000)]
    public void JudgeMetric_SignificantButTinyShift_PassesWithinTheTolerance()
    {
        // A cold canary: 0.45 ms against 0.30 ms is a 50% shift, significant, and meaningless.
        var cold = Latencies(0.00045, 400, 11);
        var warm = Latencies(0.00030, 400, 12);
        CanaryJudge.JudgeMetric("latency", Increase, cold, warm, QuantityKind.Duration).Class.Should().Be(MetricClass.High);
        var tolerant = CanaryJudge.JudgeMetric("latency", Increase with { Tolerance = TimeSpan.FromMilliseconds(5) }, cold, warm, QuantityKind.Duration);
        tolerant.Class.Should().Be(MetricClass.Pass);
        tolerant.Sentence.Should().EndWith(": no shift beyond what is allowed");
    }

    [Fact(Timeout = 10_000)]
    public void JudgeMetric_DecreaseWhenOnlyIncreaseMatters_IsLowButNotFailed()
    {
        var j = CanaryJudge.JudgeMetric("latency", Increase, Latencies(0.060, 300, 5), Latencies(0.120, 300, 6), QuantityKind.Duration);
        j.Class.Should().Be(MetricClass.Low);
        j.Failed.Should().BeFalse();
        j.Sentence.Should().EndWith("(direction increase: allowed)");

        var either = CanaryJudge.JudgeMetric("latency", Increase with { Direction = JudgeDirection.Either }, Latencies(0.060, 300, 5), Latencies(0.120, 300, 6), QuantityKind.Duration);
        either.Failed.Should().BeTrue();
    }

    [Fact(Timeout = 10_000)]
    public void JudgeMetric_NoData_IsIgnoredUnlessMustHaveData()
    {
        var ignored = CanaryJudge.JudgeMetric("latency", Increase, [], Latencies(0.1, 10, 1), QuantityKind.Duration);
        ignored.Class.Should().Be(MetricClass.NoData);
        ignored.Failed.Should().BeFalse();
        ignored.Sentence.Should().Be("latency: no data for the canary, ignored");

        var required = CanaryJudge.JudgeMetric("latency", Increase with { MustHaveData = true }, [], [], QuantityKind.Duration);
        required.Failed.Should().BeTrue();
        required.Sentence.Should().Be("latency: no data for the canary and baseline (mustHaveData)");
    }

    [Fact(Timeout = 10_000)]
    public void JudgeMetric_OutliersRemoved_OneHugeSpikeDoesNotDecide()
    {
        var canary = Latencies(0.120, 100, 7).Append(30.0).ToArray();
        CanaryJudge.Clean(canary, OutlierHandling.Remove).Should().HaveCount(100);
        CanaryJudge.Clean(canary, OutlierHandling.Keep).Should().HaveCount(101);
    }

    /// <summary>Latencies where every twentieth request (5%) takes a whole second.</summary>
    private static double[] Spiky(double center, int count, int seed) =>
        [.. Latencies(center, count, seed).Select((v, i) => i % 20 == 7 ? 1.0 + v : v)];

    [Fact(Timeout = 10_000)]
    public void JudgeMetric_RareSpikes_PassTheMedianComparisonButFailTheP99()
    {
        var tolerant = Increase with { Tolerance = TimeSpan.FromMilliseconds(5) };
        var canary = Spiky(0.002, 2000, 21);
        var baseline = Latencies(0.002, 2000, 22);

        CanaryJudge.JudgeMetric("latency", tolerant, canary, baseline, QuantityKind.Duration).Class.Should().Be(MetricClass.Pass, "the median did not move");
        var p99 = CanaryJudge.JudgeMetric("p99", tolerant, canary, baseline, QuantityKind.Duration, quantile: 0.99);

        p99.Class.Should().Be(MetricClass.High);
        p99.Failed.Should().BeTrue();
        p99.Estimate!.Lower.Should().BeGreaterThan(0.9);
        p99.Sentence.Should().MatchRegex(@"^p99: canary p99 100\d ms vs baseline 2\.\d ms \(\+\d+ ms, 98% CI \[\d+, \d+\] ms, p = 0\): higher than the baseline by more than 10%$");
    }

    [Fact(Timeout = 10_000)]
    public void JudgeMetric_PercentileOfTheSameDistribution_PassesAndIsRepeatable()
    {
        var tolerant = Increase with { Tolerance = TimeSpan.FromMilliseconds(5) };
        var canary = Spiky(0.002, 2000, 23);
        var baseline = Spiky(0.002, 2000, 24);

        var first = CanaryJudge.JudgeMetric("p99", tolerant, canary, baseline, QuantityKind.Duration, quantile: 0.99);
        first.Class.Should().Be(MetricClass.Pass, "both have the same 5% of slow requests");
        first.Estimate!.Lower.Should().BeLessThanOrEqualTo(0).And.BeGreaterThan(-0.05);
        CanaryJudge.JudgeMetric("p99", tolerant, canary, baseline, QuantityKind.Duration, quantile: 0.99).Should().BeEquivalentTo(first, "the bootstrap is seeded");
    }

    [Fact(Timeout = 10_000)]
    public void JudgeMetric_CriticalIncrease_FailsTheWholeJudgement()
    {
        var critical = Increase with { CriticalIncrease = new Percentage(50) };
        var high = CanaryJudge.JudgeMetric("latency", critical, Latencies(0.240, 200, 8), Latencies(0.120, 200, 9), QuantityKind.Duration);
        high.CriticalFailure.Should().BeTrue();
        var fine = Enumerable.Range(0, 9).Select(i => CanaryJudge.JudgeMetric($"m{i}", Increase, Latencies(0.1, 100, i), Latencies(0.1, 100, i + 50), QuantityKind.Duration));

        var judgement = CanaryJudge.Score([.. fine, high], ScoreThresholds.Default);

        judgement.Score.Should().Be(90);
        judgement.Outcome.Should().Be(JudgementOutcome.Fail, "a critical metric failed, whatever the score");
        judgement.Summary.Should().Be("score 90 (pass 95, marginal 75): fail; critical metric latency failed");
    }

    [Fact(Timeout = 10_000)]
    public void Score_WeightsAndThresholds_GivePassMarginalFail()
    {
        MetricJudgement M(string name, bool failed, double weight, MetricClass cls = MetricClass.Pass) => new(name, failed ? MetricClass.High : cls, failed, false, weight, null, null, null, name);

        CanaryJudge.Score([M("a", false, 3), M("b", false, 1)], ScoreThresholds.Default).Outcome.Should().Be(JudgementOutcome.Pass);
        CanaryJudge.Score([M("a", false, 4), M("b", true, 1)], ScoreThresholds.Default).Should().Match<Judgement>(j => j.Score == 80 && j.Outcome == JudgementOutcome.Marginal);
        CanaryJudge.Score([M("a", false, 1), M("b", true, 1)], ScoreThresholds.Default).Outcome.Should().Be(JudgementOutcome.Fail);
        CanaryJudge.Score([M("a", false, 1), M("nodata", false, 5, MetricClass.NoData)], ScoreThresholds.Default).Score.Should().Be(100, "ignored no-data metrics do not count");
    }

    [Fact(Timeout = 10_000)]
    public void Final_LastMustPassEarlierAtLeastMarginal()
    {
        Judgement J(JudgementOutcome o) => new(0, o, [], string.Empty);
        CanaryJudge.Final([J(JudgementOutcome.Marginal), J(JudgementOutcome.Pass)]).Should().Be(AnalysisPhase.Successful);
        CanaryJudge.Final([J(JudgementOutcome.Pass), J(JudgementOutcome.Marginal)]).Should().Be(AnalysisPhase.Failed);
        CanaryJudge.Final([J(JudgementOutcome.Fail), J(JudgementOutcome.Pass)]).Should().Be(AnalysisPhase.Failed);
        CanaryJudge.Final([]).Should().Be(AnalysisPhase.Inconclusive);
    }
}
