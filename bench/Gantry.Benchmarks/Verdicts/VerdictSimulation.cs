using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Gantry.Core.Analysis.Sequential;

namespace Gantry.Benchmarks.Verdicts;

/// <summary>
/// The judges on simulated canaries, many more than real ones allow: A/A runs of 300 looks (200 requests a side
/// per look, one look a second) for the false-alarm rate under repeated looks; the runbooks' faults and smaller
/// regressions for detection and time to detection; and the coverage of the confidence sequences.
/// Run: dotnet run -c Release --project bench/Gantry.Benchmarks -- verdicts-sim [AA_RUNS] [CANARIES_PER_FAULT]
/// </summary>
public static class VerdictSimulation
{
    public const int Looks = 300;
    public const int RequestsPerLook = 200;

    private static SimulatedJudge[] Judges() => [new FixedJudge(allowances: false), new FixedJudge(allowances: true), new SequentialSimJudge()];

    public static int Run(int aaRuns, int perFault)
    {
        var watch = Stopwatch.StartNew();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"simulated verdicts: {aaRuns} A/A canaries of {Looks} looks, {perFault} canaries per fault, {RequestsPerLook} requests a side per look"));
        AaRuns(aaRuns);
        Detection(perFault);
        Coverage(aaRuns * 5);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"\n{watch.Elapsed.TotalSeconds:0} s"));
        return 0;
    }

    /// <summary>How many healthy canaries each judge aborts, per metric and for the run, looking at all 300 looks.</summary>
    private static void AaRuns(int runs)
    {
        Console.WriteLine("\n| judge | latency | p99 | errors | any metric (run aborted) |\n|---|---:|---:|---:|---:|");
        foreach (var judge in Judges())
        {
            var failed = new int[SimulatedJudge.Metrics.Length + 1];
            Parallel.For(0, runs, new ParallelOptions { MaxDegreeOfParallelism = 2 }, run =>
            {
                var random = new Random(1000 + run);
                var j = judge.Start();
                var ever = new bool[SimulatedJudge.Metrics.Length];
                for (var look = 0; look < Looks; look++)
                {
                    var verdicts = j.Look(SimulatedFault.Healthy.Look(random, RequestsPerLook), SimulatedFault.Healthy.Look(random, RequestsPerLook));
                    for (var m = 0; m < ever.Length; m++)
                    {
                        ever[m] |= verdicts[m];
                    }
                }

                for (var m = 0; m < ever.Length; m++)
                {
                    if (ever[m])
                    {
                        Interlocked.Increment(ref failed[m]);
                    }
                }

                if (ever.Any(e => e))
                {
                    Interlocked.Increment(ref failed[^1]);
                }
            });
            Console.WriteLine($"| {judge.Name} | {string.Join(" | ", failed.Select(f => Share(f, runs)))} |");
        }
    }

    /// <summary>Each fault on the canary: the share detected within 300 looks, and the looks (seconds) it took.</summary>
    private static void Detection(int perFault)
    {
        Console.WriteLine("\n| fault | judge | detected | time to detection: median | p90 | max | deciding metric |\n|---|---|---:|---:|---:|---:|---|");
        foreach (var fault in SimulatedFault.Faults)
        {
            foreach (var judge in Judges())
            {
                var times = new ConcurrentBag<int>();
                var deciding = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
                Parallel.For(0, perFault, new ParallelOptions { MaxDegreeOfParallelism = 2 }, run =>
                {
                    var random = new Random(5000 + run);
                    var j = judge.Start();
                    for (var look = 1; look <= Looks; look++)
                    {
                        var verdicts = j.Look(fault.Look(random, RequestsPerLook), SimulatedFault.Healthy.Look(random, RequestsPerLook));
                        if (verdicts.Any(v => v))
                        {
                            times.Add(look);
                            deciding.AddOrUpdate(SimulatedJudge.Metrics[Array.IndexOf(verdicts, true)], 1, (_, n) => n + 1);
                            return;
                        }
                    }
                });
                var sorted = times.Order().ToArray();
                Console.WriteLine($"| {fault.Name} | {judge.Name} | {Share(sorted.Length, perFault)} | {Seconds(sorted, 0.5)} | {Seconds(sorted, 0.9)} | {Seconds(sorted, 1)} | {string.Join(", ", deciding.OrderByDescending(d => d.Value).Select(d => $"{d.Key} {d.Value}"))} |");
            }
        }
    }

    /// <summary>
    /// How often the bands hold at every look of a stream of 300 looks of 200 requests: the distribution band
    /// (checked at all 2,090 bucket edges against the true distribution function), the p50 and p99 bands, and the
    /// same band for a single look (DKW at the look's size), which repeated looks break.
    /// </summary>
    private static void Coverage(int streams)
    {
        const double alpha = 0.05;
        var edges = Enumerable.Range(0, LatencySketch.BucketCount - 1).Select(i => SimulatedFault.Cdf(LatencySketch.UpperEdge(i))).ToArray();
        var p50 = SimulatedFault.Median;
        var p99 = SimulatedFault.Median * Math.Exp(SimulatedFault.Sigma * 2.326348);
        int band = 0, fixedBand = 0, q50 = 0, q99 = 0;
        Parallel.For(0, streams, new ParallelOptions { MaxDegreeOfParallelism = 2 }, stream =>
        {
            var random = new Random(90_000 + stream);
            var sketch = LatencySketch.Empty;
            long below50 = 0, below99 = 0;
            bool b = false, f = false, m = false, t = false;
            for (var look = 0; look < Looks; look++)
            {
                var values = SimulatedFault.Healthy.Look(random, RequestsPerLook).Latencies;
                sketch = sketch.Add(values);
                below50 += values.Count(v => v <= p50);
                below99 += values.Count(v => v <= p99);
                var n = sketch.Count;
                var cumulative = sketch.Cumulative();
                var sup = 0.0;
                for (var i = 0; i < edges.Length; i++)
                {
                    sup = Math.Max(sup, Math.Abs((cumulative[i] / (double)n) - edges[i]));
                }

                b |= sup > TimeUniformBand.Width(n, alpha);
                f |= sup > TimeUniformBand.FixedWidth(n, alpha);
                m |= Outside(below50 / (double)n, n, 0.5, alpha);
                t |= Outside(below99 / (double)n, n, 0.99, alpha);
            }

            if (b) { Interlocked.Increment(ref band); }
            if (f) { Interlocked.Increment(ref fixedBand); }
            if (m) { Interlocked.Increment(ref q50); }
            if (t) { Interlocked.Increment(ref q99); }
        });
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"\n| band (alpha {alpha}) | streams | held at every look |\n|---|---:|---:|"));
        foreach (var (name, broken) in new[] { ("distribution, time-uniform", band), ("distribution, one-look DKW", fixedBand), ("median, time-uniform", q50), ("p99, time-uniform", q99) })
        {
            Console.WriteLine($"| {name} | {streams} | {Share(streams - broken, streams)} |");
        }
    }

    private static bool Outside(double share, long n, double p, double alpha)
    {
        var low = QuantileBand.Below(n, p, alpha / 2);
        var high = QuantileBand.Above(n, p, alpha / 2);
        return (!double.IsNaN(low) && share < low) || (!double.IsNaN(high) && share > high);
    }

    private static string Share(int count, int of) => string.Create(CultureInfo.InvariantCulture, $"{count}/{of} ({100.0 * count / of:0.#}%)");

    private static string Seconds(int[] sorted, double p) =>
        sorted.Length == 0 ? "-" : string.Create(CultureInfo.InvariantCulture, $"{sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)]} s");
}
