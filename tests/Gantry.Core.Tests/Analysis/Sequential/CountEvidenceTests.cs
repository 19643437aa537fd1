using Gantry.Core.Analysis.Sequential;
using Gantry.Core.Manifest;
using static Gantry.Core.Tests.Analysis.Sequential.SequentialSamples;

namespace Gantry.Core.Tests.Analysis.Sequential;

public sealed class CountEvidenceTests
{
    [Fact(Timeout = 10_000)]
    public void LogRatio_IsTheBinomialLikelihoodRatioOfWhereTheErrorsFell()
    {
        // Equal traffic (q = 1/2), 10 errors all on the canary: a canary failing twice as often takes an error with
        // probability 2/3, so the ratio is (2/3 / 1/2)^10 = (4/3)^10, ln = 10 ln(4/3) = 2.8768.
        CountEvidence.LogRatio(new CountBatch(100, 10, 100, 0), 2, 1).Should().BeApproximately(10 * Math.Log(4.0 / 3), 1e-12);
        // 3 and 3: the split equal traffic expects under the null is evidence against a ratio of 2: 3 ln(4/3) + 3 ln(2/3).
        CountEvidence.LogRatio(new CountBatch(100, 3, 100, 3), 2, 1).Should().BeApproximately((3 * Math.Log(4.0 / 3)) + (3 * Math.Log(2.0 / 3)), 1e-12);
        CountEvidence.LogRatio(new CountBatch(100, 0, 100, 0), 2, 1).Should().Be(0, "no errors, no evidence");
        CountEvidence.LogRatio(new CountBatch(0, 0, 100, 5), 2, 1).Should().Be(0, "no canary traffic, no evidence");
        CountEvidence.Share(1, 0.1).Should().BeApproximately(0.1, 1e-12);
        CountEvidence.LogMixture([Math.Log(1), Math.Log(3)]).Should().BeApproximately(Math.Log(2), 1e-12);
        CountEvidence.LogMixture([1000, 1000]).Should().BeApproximately(1000, 1e-9, "no overflow");
    }

    [Fact(Timeout = 120_000)]
    public void AaRuns_WithTrafficThatChangesEveryLook_ReachOneOverAlphaAtMostAlphaOfTheTime()
    {
        // 500 healthy canaries, 300 looks each, both sides failing 2% of requests, the canary's share of traffic
        // moving between 5% and 50% from look to look: the e-value must cross 1/alpha in at most alpha of the runs.
        const double alpha = 0.05;
        var random = new Random(11);
        var crossed = 0;
        for (var run = 0; run < 500; run++)
        {
            var evidence = CountEvidence.Start(JudgeDirection.Increase);
            for (var look = 0; look < 300; look++)
            {
                var total = 100 + random.Next(400);
                var canary = (long)(total * (0.05 + (0.45 * random.NextDouble())));
                var baseline = total - canary;
                evidence = evidence.Add(new CountBatch(canary, Binomial(random, canary, 0.02), baseline, Binomial(random, baseline, 0.02)), JudgeDirection.Increase, 0);
                if (evidence.EValue >= 1 / alpha)
                {
                    crossed++;
                    break;
                }
            }
        }

        (crossed / 500.0).Should().BeLessThanOrEqualTo(alpha);
    }

    [Theory(Timeout = 60_000)]
    [InlineData(0.01, 0.03, 1_000, 5)]   // +2 points on a 1% base
    [InlineData(0.01, 0.11, 500, 2)]     // +10 points
    public void MoreErrors_OnTheCanary_AreDetectedWithinAFewLooks(double baseRate, double canaryRate, int perLook, int maxLooks)
    {
        var random = new Random(12);
        var evidence = CountEvidence.Start(JudgeDirection.Increase);
        var looks = 0;
        while (evidence.EValue < 20 && looks < 50)
        {
            looks++;
            evidence = evidence.Add(new CountBatch(perLook, Binomial(random, perLook, canaryRate), perLook, Binomial(random, perLook, baseRate)), JudgeDirection.Increase, 0);
        }

        looks.Should().BeLessThanOrEqualTo(maxLooks);
        evidence.Leaning(JudgeDirection.Increase, 0).Should().Be(SequentialOutcome.Higher);
        evidence.CanaryRate.Should().BeGreaterThan(evidence.BaselineRate);
    }

    [Fact(Timeout = 10_000)]
    public void AllowedIncrease_MovesTheNull_AndDetectableRateFollowsTheData()
    {
        var batch = new CountBatch(1_000, 15, 1_000, 10);
        var strict = CountEvidence.Start(JudgeDirection.Increase).Add(batch, JudgeDirection.Increase, 0);
        var lenient = CountEvidence.Start(JudgeDirection.Increase).Add(batch, JudgeDirection.Increase, 1);
        lenient.EValue.Should().BeLessThan(strict.EValue, "a doubling is allowed, so 15 against 10 is less evidence");
        var detectable = strict.DetectableCanaryRate(0.05, 0)!.Value;
        detectable.Should().BeInRange(0.015, 0.05, "with a 1% baseline over 1,000 requests, a few points more would show");
        var tiny = CountEvidence.Start(JudgeDirection.Increase).Add(new CountBatch(2, 0, 2, 0), JudgeDirection.Increase, 0);
        tiny.DetectableCanaryRate(0.05, 0).Should().BeNull("two requests failing would not be evidence");
    }
}
