namespace Gantry.Core.Tests.Analysis.Sequential;

/// <summary>Seeded latencies and counts for the sequential tests.</summary>
internal static class SequentialSamples
{
    /// <summary>Log-normal latencies in seconds around <paramref name="median"/>, scaled by <paramref name="scale"/>.</summary>
    public static double[] Latencies(Random random, int count, double median = 0.005, double scale = 1, double spread = 0.5) =>
        [.. Enumerable.Range(0, count).Select(_ => scale * median * Math.Exp(spread * Normal(random)))];

    public static double Normal(Random random)
    {
        var u1 = 1 - random.NextDouble();
        var u2 = random.NextDouble();
        return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    public static long Binomial(Random random, long trials, double p)
    {
        if (trials > 200)
        {
            // Normal approximation for large batches, rounded and clamped: enough for error counts per look.
            var mean = trials * p;
            var sd = Math.Sqrt(trials * p * (1 - p));
            return Math.Clamp((long)Math.Round(mean + (sd * Normal(random))), 0, trials);
        }

        var k = 0L;
        for (var i = 0; i < trials; i++)
        {
            k += random.NextDouble() < p ? 1 : 0;
        }

        return k;
    }
}
