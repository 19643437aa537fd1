using Gantry.Core.Analysis.Sequential;

namespace Gantry.Core.Tests.Analysis.Sequential;

public sealed class TimeUniformBandTests
{
    [Fact(Timeout = 10_000)]
    public void Width_IsDkwMassartSpentOverEverySampleSize()
    {
        // n = 100, alpha = 0.05: sqrt(ln(2 * 100 * 101 / 0.05) / 200) = sqrt(12.9091 / 200) = 0.25406.
        TimeUniformBand.Width(100, 0.05).Should().BeApproximately(0.25406, 0.00001);
        TimeUniformBand.FixedWidth(100, 0.05).Should().BeApproximately(Math.Sqrt(Math.Log(40) / 200), 1e-12);
        TimeUniformBand.Width(0, 0.05).Should().Be(1);
        TimeUniformBand.Width(1, 0.05).Should().Be(1, "one sample says nothing about the distribution");
        var widths = new[] { 10L, 100, 1_000, 10_000, 100_000 }.Select(n => TimeUniformBand.Width(n, 0.05)).ToArray();
        widths.Should().BeInDescendingOrder();
        widths.Zip(new[] { 10L, 100, 1_000, 10_000, 100_000 }).Should().OnlyContain(w => w.First > TimeUniformBand.FixedWidth(w.Second, 0.05),
            "holding at every sample size costs width over a single look");
        FluentActions.Invoking(() => TimeUniformBand.Width(10, 0)).Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact(Timeout = 60_000)]
    public void Band_CoversTheTrueDistributionAtEveryLook_InAtLeastOneMinusAlphaOfStreams()
    {
        // 400 streams of 3,000 draws from a distribution on 50 values, checked after every draw: the band must
        // contain the true distribution function at all 3,000 sample sizes in at least 95% of the streams.
        const double alpha = 0.05;
        var random = new Random(20261129);
        var truth = Enumerable.Range(1, 50).Select(v => v / 50.0).ToArray();
        var violated = 0;
        var fixedViolated = 0;
        for (var stream = 0; stream < 400; stream++)
        {
            var counts = new int[50];
            bool broke = false, fixedBroke = false;
            for (var n = 1; n <= 3_000; n++)
            {
                counts[random.Next(50)]++;
                var cumulative = 0;
                var sup = 0.0;
                for (var v = 0; v < 50; v++)
                {
                    cumulative += counts[v];
                    sup = Math.Max(sup, Math.Abs((cumulative / (double)n) - truth[v]));
                }

                broke |= sup > TimeUniformBand.Width(n, alpha);
                fixedBroke |= sup > TimeUniformBand.FixedWidth(n, alpha);
            }

            violated += broke ? 1 : 0;
            fixedViolated += fixedBroke ? 1 : 0;
        }

        (violated / 400.0).Should().BeLessThanOrEqualTo(alpha);
        (fixedViolated / 400.0).Should().BeGreaterThan(alpha, "a band valid for one sample size is crossed at some look far more often than alpha");
    }

    [Fact(Timeout = 10_000)]
    public void QuantileBand_IsNarrowInTheTail_AndUndefinedWhileNoShareCouldSpeak()
    {
        var below = QuantileBand.Below(10_000, 0.99, 0.025);
        var above = QuantileBand.Above(10_000, 0.99, 0.025);
        below.Should().BeInRange(0.98, 0.99);
        above.Should().BeInRange(0.99, 0.997);
        (0.99 - below).Should().BeLessThan(TimeUniformBand.Width(10_000, 0.025) / 3, "the binomial variance at p99 is small");
        // At the band's edge n KL(edge || p) = ln(n (n + 1) / alpha).
        (10_000 * QuantileBand.Divergence(above, 0.99)).Should().BeApproximately(Math.Log(10_000.0 * 10_001 / 0.025), 1e-6);
        QuantileBand.Above(100, 0.99, 0.025).Should().Be(double.NaN, "100 samples cannot bound p99 from above");
        QuantileBand.Below(0, 0.5, 0.025).Should().Be(double.NaN);
    }

    [Fact(Timeout = 60_000)]
    public void QuantileBand_CoversTheTrueP99AtEveryLook_InAtLeastOneMinusAlphaOfStreams()
    {
        // The true p99 of a uniform distribution on [0, 1) is 0.99: its share must stay inside the band at every size.
        const double alpha = 0.05;
        var random = new Random(99);
        var violated = 0;
        for (var stream = 0; stream < 400; stream++)
        {
            var atOrBelow = 0;
            for (var n = 1; n <= 5_000; n++)
            {
                atOrBelow += random.NextDouble() <= 0.99 ? 1 : 0;
                var share = atOrBelow / (double)n;
                var low = QuantileBand.Below(n, 0.99, alpha / 2);
                var high = QuantileBand.Above(n, 0.99, alpha / 2);
                if ((!double.IsNaN(low) && share < low) || (!double.IsNaN(high) && share > high))
                {
                    violated++;
                    break;
                }
            }
        }

        (violated / 400.0).Should().BeLessThanOrEqualTo(alpha);
    }

    [Fact(Timeout = 10_000)]
    public void QuantileBand_BoundsOfASketch_BracketItsTrueQuantile()
    {
        // 20,000 values 1..20,000 ms in order of size: p99 is 19.8 s; the bounds hold it between them.
        var sketch = LatencySketch.Empty.Add(Enumerable.Range(1, 20_000).Select(v => v / 1000.0));
        var low = QuantileBand.LowerBound(sketch, 0.99, 0.025);
        var high = QuantileBand.UpperBound(sketch, 0.99, 0.025);
        low.Should().BeInRange(19.0, 19.8);
        high.Should().BeInRange(19.8, 20.0);
        QuantileBand.UpperBound(LatencySketch.Empty.Add([0.1, 0.2]), 0.99, 0.025).Should().BeNull("two values cannot bound p99");
    }
}
