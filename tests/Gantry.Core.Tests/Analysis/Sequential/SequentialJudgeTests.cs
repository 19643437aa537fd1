using Gantry.Core.Analysis;
using Gantry.Core.Analysis.Judge;
using Gantry.Core.Manifest;
using Gantry.Core.Manifest.Values;
using static Gantry.Core.Tests.Analysis.Sequential.SequentialSamples;

namespace Gantry.Core.Tests.Analysis.Sequential;

public sealed class SequentialJudgeTests
{
    private static readonly JudgeOptions Options = new(JudgeDirection.Increase, 0.98, null, null, true, OutlierHandling.Keep, 1, false, null, JudgeMethod.Sequential, 0.05);

    private static MetricValue Samples(double[] values, long through) => new(values.Length > 0 ? values.Average() : null, values, null, new MetricCounts(values.Length, 0), through);

    private static MetricValue Counts(long requests, long errors, long through) => new(requests == 0 ? null : errors / (double)requests, [], null, new MetricCounts(requests, errors), through);

    [Fact(Timeout = 10_000)]
    public void Look_WithTooFewRequests_WaitsAndSaysWhatItNeeds()
    {
        var random = new Random(1);
        var state = SequentialState.Start("v1", JudgeDirection.Increase);
        var (next, j) = SequentialJudge.Look(state, "latency", Options, BuiltinMetric.Latency, Samples(Latencies(random, 5), 10), Samples(Latencies(random, 5), 10), "v1");
        j.Class.Should().Be(MetricClass.NoData);
        j.Failed.Should().BeFalse("too little data is a wait, not a failure");
        j.Sentence.Should().Be($"latency: waiting for data: 5 canary and 5 baseline requests so far; nothing can be told apart before about {SequentialJudge.MinimumSamples(0.05)} on each side");
        SequentialJudge.MinimumSamples(0.05).Should().BeInRange(15, 40);
        next.CanaryAfter.Should().Be(10, "the next look asks only for what came after");
        next.Canary.Count.Should().Be(5);
    }

    [Fact(Timeout = 10_000)]
    public void Look_HealthyCanary_HasNoEvidenceAndSaysWhatWouldHaveBeenDetected()
    {
        var random = new Random(2);
        var state = SequentialState.Start("v1", JudgeDirection.Increase);
        MetricJudgement j = null!;
        for (var look = 1; look <= 5; look++)
        {
            (state, j) = SequentialJudge.Look(state, "latency", Options, BuiltinMetric.Latency, Samples(Latencies(random, 400), look), Samples(Latencies(random, 400), look), "v1");
        }

        j.Class.Should().Be(MetricClass.Pass);
        j.Failed.Should().BeFalse();
        j.Sentence.Should().MatchRegex(@"^latency: canary median [\d.]+ ms vs baseline [\d.]+ ms after 2,000 canary and 2,000 baseline requests: no evidence of a change \(anytime-valid at alpha 5%\); a canary median above [\d.]+ ms or p90 above [\d.]+ ms would have been detected; p99 needs more requests$");
    }

    [Fact(Timeout = 10_000)]
    public void Look_SlowerCanary_FailsWithItsEvidence_AndTheVerdictHolds()
    {
        var random = new Random(3);
        var options = Options with { Tolerance = TimeSpan.FromMilliseconds(1) };
        var state = SequentialState.Start("v1", JudgeDirection.Increase);
        (state, var j) = SequentialJudge.Look(state, "latency", options, BuiltinMetric.Latency, Samples(Latencies(random, 300, scale: 2), 1), Samples(Latencies(random, 300), 1), "v1");
        for (var look = 2; look <= 20 && !j.Failed; look++)
        {
            (state, j) = SequentialJudge.Look(state, "latency", options, BuiltinMetric.Latency, Samples(Latencies(random, 300, scale: 2), look), Samples(Latencies(random, 300), look), "v1");
        }

        j.Class.Should().Be(MetricClass.High);
        j.Failed.Should().BeTrue();
        j.Sentence.Should().MatchRegex(@"^latency: canary slower by more than 1ms: its p\d+ is above [\d.]+ ms where the baseline's is at most [\d.]+ ms \(time-uniform bands [\d.]+ and [\d.]+ points wide after [\d,]+ canary and [\d,]+ baseline requests; false alarms at most 5% over the rollout\)$");
        var (after, again) = SequentialJudge.Look(state, "latency", options, BuiltinMetric.Latency, Samples(Latencies(random, 300), 99), Samples(Latencies(random, 300), 99), "v1");
        again.Should().BeSameAs(j, "a verdict, once reached, holds");
        after.Verdict.Should().BeSameAs(j);
    }

    [Fact(Timeout = 10_000)]
    public void Look_ErrorCounts_FailOnTheEValue_AndSuccessRateCountsTheSameErrors()
    {
        var state = SequentialState.Start("v1", JudgeDirection.Increase);
        var (_, j) = SequentialJudge.Look(state, "errors", Options, BuiltinMetric.ErrorRate, Counts(1_000, 60, 5), Counts(1_000, 10, 5), "v1");
        j.Class.Should().Be(MetricClass.High);
        j.Failed.Should().BeTrue();
        j.Sentence.Should().MatchRegex(@"^errors: canary error rate 6\.00% \(60 of 1,000\) vs baseline 1\.00% \(10 of 1,000\): e-value [\d.e+]+ >= 20 = 1/alpha: the canary fails more often$");

        var success = Options with { Direction = JudgeDirection.Decrease };
        var (_, s) = SequentialJudge.Look(SequentialState.Start("v1", SequentialJudge.CountDirection(success, BuiltinMetric.SuccessRate)), "success", success, BuiltinMetric.SuccessRate, Counts(1_000, 60, 5), Counts(1_000, 10, 5), "v1");
        s.Failed.Should().BeTrue("a success rate that must not decrease is an error rate that must not increase");
        s.Class.Should().Be(MetricClass.Low, "the class describes the metric: its success rate is lower");

        var (_, calm) = SequentialJudge.Look(state, "errors", Options, BuiltinMetric.ErrorRate, Counts(1_000, 11, 5), Counts(1_000, 10, 5), "v1");
        calm.Failed.Should().BeFalse();
        calm.Sentence.Should().MatchRegex(@": no evidence of a change; a canary error rate of [\d.]+% or more would have been detected$");
        var (_, none) = SequentialJudge.Look(state, "errors", Options, BuiltinMetric.ErrorRate, Counts(3, 0, 5), Counts(3, 0, 5), "v1");
        none.Class.Should().Be(MetricClass.NoData);
    }

    [Fact(Timeout = 30_000)]
    public void Look_AtP99_CountsTheTailBeyondTheBaselinesRunningP99_AndSeesWhatTheMedianDoesNot()
    {
        var random = new Random(5);
        var options = Options with { AllowedIncrease = new Percentage(50), Tolerance = TimeSpan.FromMilliseconds(50) };
        // 3% of the canary's requests take 1 s more: the median is unchanged, p99 is not.
        double[] Spiky(int n) => [.. Latencies(random, n).Select(v => random.NextDouble() < 0.03 ? v + 1 : v)];
        var tail = SequentialState.Start("v1", JudgeDirection.Increase);
        var median = SequentialState.Start("v1", JudgeDirection.Increase);
        MetricJudgement p99 = null!, p50 = null!;
        for (var look = 1; look <= 10; look++)
        {
            var (c, b) = (Samples(Spiky(500), look), Samples(Latencies(random, 500), look));
            (tail, p99) = SequentialJudge.Look(tail, "p99", options, BuiltinMetric.LatencyP99, c, b, "v1");
            (median, p50) = SequentialJudge.Look(median, "p50", options, BuiltinMetric.LatencyP50, c, b, "v1");
        }

        p99.Failed.Should().BeTrue();
        p99.Class.Should().Be(MetricClass.High);
        p99.Sentence.Should().MatchRegex(@"^p99: canary p99 [\d.]+ ms vs baseline [\d.]+ ms: [\d.]+% of the canary's requests \([\d,]+ of [\d,]+\) were beyond the baseline's running p99 plus the allowance, against [\d.]+% of the baseline's \([\d,]+ of [\d,]+\): e-value [\d.e+]+ >= 20 = 1/alpha: the canary's p99 is higher by more than 50% and 50ms( \(time-uniform bounds: canary p99 above [\d.]+ ms, baseline p99 at most [\d.]+ ms\))?$");
        (tail.Counts.BaselineTrials % 500).Should().Be(250, "a look counts against the percentile of the looks before it; in the first, half the baseline sets it");
        p50.Failed.Should().BeFalse();
        p50.Sentence.Should().MatchRegex(@"^p50: canary median [\d.]+ ms vs baseline [\d.]+ ms after 5,000 canary and 5,000 baseline requests: no evidence of a change \(e-value [\d.]+ < 20 = 1/alpha\); a canary median above [\d.]+ ms would have been detected$");
    }

    [Fact(Timeout = 60_000)]
    public void Look_AtP99_AaRuns_RarelyCrossOneOverAlpha()
    {
        // 100 healthy canaries, 300 looks of 100 requests a side, no allowance: the tail test's false alarms stay within alpha.
        var random = new Random(21);
        var falseAlarms = 0;
        for (var run = 0; run < 100; run++)
        {
            var state = SequentialState.Start("v1", JudgeDirection.Either);
            for (var look = 1; look <= 300; look++)
            {
                (state, var j) = SequentialJudge.Look(state, "p99", Options with { Direction = JudgeDirection.Either }, BuiltinMetric.LatencyP99, Samples(Latencies(random, 100), look), Samples(Latencies(random, 100), look), "v1");
                if (j.Failed)
                {
                    falseAlarms++;
                    break;
                }
            }
        }

        falseAlarms.Should().BeLessThanOrEqualTo(5);
    }

    [Fact(Timeout = 10_000)]
    public void Look_ANewBaselineSet_StartsTheEvidenceAgain_AndAFailedQueryIsAnError()
    {
        var random = new Random(4);
        var state = SequentialState.Start("v1", JudgeDirection.Increase);
        (state, _) = SequentialJudge.Look(state, "latency", Options, BuiltinMetric.Latency, Samples(Latencies(random, 500), 1), Samples(Latencies(random, 500), 1), "v1");
        state.Baseline.Count.Should().Be(500);
        (state, var j) = SequentialJudge.Look(state, "latency", Options, BuiltinMetric.Latency, Samples(Latencies(random, 500), 2), Samples(Latencies(random, 500), 2), "v1~baseline");
        state.Baseline.Count.Should().Be(500, "the stable set's requests are not the fresh baseline's");
        state.Restarts.Should().Be(1);
        j.Sentence.Should().EndWith("(evidence restarted when the baseline changed)");

        var (_, error) = SequentialJudge.Look(state, "latency", Options, BuiltinMetric.Latency, MetricValue.Failed("router unreachable"), Samples([], 3), "v1~baseline");
        error.Class.Should().Be(MetricClass.Error);
        error.Sentence.Should().Be("latency: router unreachable");
    }

    [Fact(Timeout = 10_000)]
    public void Evaluator_APendingMeasurement_IsNotCounted()
    {
        var template = AnalysisSamples.Template(count: 2);
        var metric = MetricResult.Start(AnalysisSamples.Metric("> 1ms"));
        metric = AnalysisEvaluator.Add(metric, new MetricMeasurement(AnalysisSamples.T0, AnalysisPhase.Successful, 1, 1, "ok"), template, 2);
        metric = AnalysisEvaluator.Add(metric, new MetricMeasurement(AnalysisSamples.T0, AnalysisPhase.Pending, null, null, "waiting"), template, 2);
        metric.Count.Should().Be(1);
        metric.ConsecutiveSuccesses.Should().Be(1);
        metric.Phase.Should().Be(AnalysisPhase.Running, "waiting is not a measurement");
        metric = AnalysisEvaluator.Add(metric, new MetricMeasurement(AnalysisSamples.T0, AnalysisPhase.Successful, 1, 1, "ok"), template, 2);
        metric.Phase.Should().Be(AnalysisPhase.Successful);
    }
}
