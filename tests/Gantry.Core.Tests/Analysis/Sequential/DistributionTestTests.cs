using Gantry.Core.Analysis.Sequential;
using Gantry.Core.Manifest;
using static Gantry.Core.Tests.Analysis.Sequential.SequentialSamples;

namespace Gantry.Core.Tests.Analysis.Sequential;

public sealed class DistributionTestTests
{
    [Fact(Timeout = 10_000)]
    public void Sketch_BucketsAreOnePercentWideAndQuantilesLandInTheRightBucket()
    {
        LatencySketch.IndexOf(0).Should().Be(0);
        LatencySketch.IndexOf(1e-6).Should().Be(0);
        LatencySketch.IndexOf(double.PositiveInfinity).Should().Be(LatencySketch.BucketCount - 1);
        var i = LatencySketch.IndexOf(0.005);
        LatencySketch.LowerEdge(i).Should().BeLessThan(0.005);
        LatencySketch.UpperEdge(i).Should().BeGreaterThanOrEqualTo(0.005).And.BeLessThan(0.005 * 1.0101);
        var sketch = LatencySketch.Empty.Add([.. Enumerable.Range(1, 100).Select(v => v / 1000.0), double.NaN]);
        sketch.Count.Should().Be(100, "NaN is no value");
        sketch.Quantile(0.5).Should().BeInRange(0.050, 0.0505);
        sketch.Quantile(0.99).Should().BeInRange(0.099, 0.09999);
        LatencySketch.Empty.Count.Should().Be(0, "adding returns a new sketch");
    }

    [Fact(Timeout = 10_000)]
    public void Compare_TooFewSamples_Waits_ThenHasNoEvidenceForEqualDistributions()
    {
        var random = new Random(1);
        var few = DistributionTest.Compare(LatencySketch.Empty.Add(Latencies(random, 10)), LatencySketch.Empty.Add(Latencies(random, 10)), 0.05, JudgeDirection.Increase, Allowance.None);
        few.Outcome.Should().Be(SequentialOutcome.Waiting, "with 10 samples a side the bands are wider than a half");
        var many = DistributionTest.Compare(LatencySketch.Empty.Add(Latencies(random, 5_000)), LatencySketch.Empty.Add(Latencies(random, 5_000)), 0.05, JudgeDirection.Either, Allowance.None);
        many.Outcome.Should().Be(SequentialOutcome.NoEvidence);
    }

    [Fact(Timeout = 120_000)]
    public void Compare_AaRuns_FalselyRejectAtMostAlpha_WhereRepeatedFixedTestsDoNot()
    {
        // 100 healthy canaries, 300 looks of 40 new requests a side each: the sequential test, looked at after every
        // batch, must falsely reject in at most alpha of the runs.
        const double alpha = 0.05;
        var random = new Random(7);
        var falseAlarms = 0;
        for (var run = 0; run < 100; run++)
        {
            var canary = LatencySketch.Empty;
            var baseline = LatencySketch.Empty;
            for (var look = 0; look < 300; look++)
            {
                canary = canary.Add(Latencies(random, 40));
                baseline = baseline.Add(Latencies(random, 40));
                if (DistributionTest.Compare(canary, baseline, alpha, JudgeDirection.Either, Allowance.None).Outcome is SequentialOutcome.Higher or SequentialOutcome.Lower)
                {
                    falseAlarms++;
                    break;
                }
            }
        }

        (falseAlarms / 100.0).Should().BeLessThanOrEqualTo(alpha);
    }

    [Fact(Timeout = 30_000)]
    public void Compare_SlowerCanary_IsRejectedWithBoundsThatSeparateTheQuantiles()
    {
        var random = new Random(3);
        var canary = LatencySketch.Empty;
        var baseline = LatencySketch.Empty;
        DistributionEvidence? evidence = null;
        var looks = 0;
        while (looks < 100)
        {
            looks++;
            canary = canary.Add(Latencies(random, 100, scale: 1.3));
            baseline = baseline.Add(Latencies(random, 100));
            evidence = DistributionTest.Compare(canary, baseline, 0.05, JudgeDirection.Increase, Allowance.None);
            if (evidence.Outcome == SequentialOutcome.Higher)
            {
                break;
            }
        }

        evidence!.Outcome.Should().Be(SequentialOutcome.Higher);
        looks.Should().BeLessThan(20, "a 30% slower canary is told apart within a few thousand requests");
        evidence.CanaryBound.Should().BeGreaterThanOrEqualTo(evidence.BaselineBound, "the canary's quantile is above its bound, the baseline's at most its own");
        // The true quantiles at the level found respect the bounds: baseline at most, canary above.
        var z = Normal(evidence.Level);
        (0.005 * Math.Exp(0.5 * z)).Should().BeLessThanOrEqualTo(evidence.BaselineBound * 1.02);
        (1.3 * 0.005 * Math.Exp(0.5 * z)).Should().BeGreaterThanOrEqualTo(evidence.CanaryBound / 1.02);
        DistributionTest.Compare(canary, baseline, 0.05, JudgeDirection.Decrease, Allowance.None).Outcome.Should().NotBe(SequentialOutcome.Lower, "a slower canary is not faster");
    }

    [Fact(Timeout = 30_000)]
    public void Compare_AnAllowanceLargerThanTheShift_NeverRejects()
    {
        var random = new Random(4);
        var canary = LatencySketch.Empty.Add(Latencies(random, 20_000, scale: 1.10));
        var baseline = LatencySketch.Empty.Add(Latencies(random, 20_000));
        DistributionTest.Compare(canary, baseline, 0.05, JudgeDirection.Increase, Allowance.None).Outcome.Should().Be(SequentialOutcome.Higher, "10% is visible in 20,000 requests");
        DistributionTest.Compare(canary, baseline, 0.05, JudgeDirection.Increase, new Allowance(0.20, 0)).Outcome.Should().Be(SequentialOutcome.NoEvidence, "20% is allowed");
        DistributionTest.Compare(canary, baseline, 0.05, JudgeDirection.Increase, new Allowance(0, 0.002)).Outcome.Should().Be(SequentialOutcome.NoEvidence, "a 2 ms floor covers a 0.5 ms shift");
    }

    [Fact(Timeout = 10_000)]
    public void DetectableIncrease_ShrinksAsRequestsArrive_AndIsUnknownBeyondTheBand()
    {
        var random = new Random(6);
        var small = LatencySketch.Empty.Add(Latencies(random, 200));
        var large = LatencySketch.Empty.Add(Latencies(random, 20_000));
        var atSmall = DistributionTest.DetectableIncrease(small, 200, 0.05, Allowance.None, 0.5);
        var atLarge = DistributionTest.DetectableIncrease(large, 20_000, 0.05, Allowance.None, 0.5);
        atSmall.Should().NotBeNull();
        atLarge.Should().BeLessThan(atSmall!.Value);
        atLarge.Should().BeLessThan(0.1, "20,000 requests a side see a 10% shift of the median");
        DistributionTest.DetectableIncrease(small, 200, 0.05, Allowance.None, 0.99).Should().BeNull("200 requests cannot place p99");
    }

    private static double Normal(double p)
    {
        // The standard normal quantile by bisection: enough for a test.
        double lo = -10, hi = 10;
        for (var i = 0; i < 100; i++)
        {
            var mid = (lo + hi) / 2;
            if (0.5 * (1 + Erf(mid / Math.Sqrt(2))) < p)
            {
                lo = mid;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }

    private static double Erf(double x) => MathNet.Numerics.SpecialFunctions.Erf(x);
}
