namespace Gantry.Benchmarks.Verdicts;

/// <summary>
/// A simulated service for judging many canaries quickly: log-normal latencies (median 100 ms, sigma 0.5, so p99
/// about 320 ms) and 1% errors, and the runbooks' faults applied to the canary's requests.
/// </summary>
public sealed record SimulatedFault(string Name, double ErrorRate, Func<Random, double, double> Latency, bool Small)
{
    public const double Median = 0.100;
    public const double Sigma = 0.5;
    public const double BaseErrors = 0.01;

    /// <summary>The baseline's 97th percentile: requests above it are the tail a +30% at p99 fault slows.</summary>
    public static readonly double P97 = Median * Math.Exp(Sigma * 1.880794);

    public static readonly SimulatedFault Healthy = new("healthy", BaseErrors, (_, v) => v, false);

    public static readonly SimulatedFault[] Faults =
    [
        new("errors +10%", BaseErrors + 0.10, (_, v) => v, false),
        new("latency +100 ms", BaseErrors, (_, v) => v + 0.100, false),
        new("spikes 1 s on 5%", BaseErrors, (r, v) => r.NextDouble() < 0.05 ? v + 1 : v, false),
        new("errors +2 points", BaseErrors + 0.02, (_, v) => v, true),
        new("+20 ms at the median", BaseErrors, (_, v) => v + 0.020, true),
        new("+30% at p99", BaseErrors, (_, v) => v > P97 ? v * 1.3 : v, true),
    ];

    public static double Draw(Random random) => Median * Math.Exp(Sigma * Normal(random));

    public static double Normal(Random random)
    {
        var u1 = 1 - random.NextDouble();
        var u2 = random.NextDouble();
        return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    /// <summary>The log-normal distribution function of the healthy service.</summary>
    public static double Cdf(double seconds) => seconds <= 0 ? 0 : 0.5 * (1 + MathNet.Numerics.SpecialFunctions.Erf(Math.Log(seconds / Median) / (Sigma * Math.Sqrt(2))));

    /// <summary>One look's requests of one side: latencies and how many failed.</summary>
    public (double[] Latencies, long Errors) Look(Random random, int requests)
    {
        var latencies = new double[requests];
        var errors = 0L;
        for (var i = 0; i < requests; i++)
        {
            latencies[i] = Latency(random, Draw(random));
            errors += random.NextDouble() < ErrorRate ? 1 : 0;
        }

        return (latencies, errors);
    }
}
