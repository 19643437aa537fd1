using Gantry.Core.Analysis;
using Gantry.Core.Analysis.Judge;
using Gantry.Core.Manifest;
using Gantry.Core.Manifest.Values;

namespace Gantry.Benchmarks.Verdicts;

/// <summary>The judges compared on simulated canaries: each look's verdict per metric (latency, p99, errors).</summary>
public abstract class SimulatedJudge
{
    public static readonly string[] Metrics = ["latency", "p99", "errors"];

    public abstract string Name { get; }

    /// <summary>Which metrics fail at this look (indexes into <see cref="Metrics"/>).</summary>
    public abstract bool[] Look((double[] Latencies, long Errors) canary, (double[] Latencies, long Errors) baseline);

    /// <summary>A fresh judge for one canary (sequential judges keep what they have seen).</summary>
    public abstract SimulatedJudge Start();
}

/// <summary>
/// The fixed-horizon judge at every look: Mann-Whitney on latency, the p99 bootstrap, and the threshold rule
/// <c>error_rate &gt; baseline + 5%</c> (the fixed judge cannot judge error rates), at confidence 0.95: nominal 5%.
/// </summary>
public sealed class FixedJudge(bool allowances) : SimulatedJudge
{
    private readonly JudgeOptions latency = new(JudgeDirection.Increase, 0.95, allowances ? new Percentage(20) : null, null, true, OutlierHandling.Keep, 1, false, allowances ? TimeSpan.FromMilliseconds(5) : null);
    private readonly JudgeOptions p99 = new(JudgeDirection.Increase, 0.95, allowances ? new Percentage(50) : null, null, true, OutlierHandling.Keep, 1, false, allowances ? TimeSpan.FromMilliseconds(50) : null);

    public override string Name => allowances ? "fixed (allowedIncrease 20%/50%, tolerance 5/50 ms)" : "fixed (no allowance)";

    public override SimulatedJudge Start() => this;

    public override bool[] Look((double[] Latencies, long Errors) canary, (double[] Latencies, long Errors) baseline) =>
    [
        CanaryJudge.JudgeMetric("latency", latency, canary.Latencies, baseline.Latencies, QuantityKind.Duration).Failed,
        CanaryJudge.JudgeMetric("p99", p99, canary.Latencies, baseline.Latencies, QuantityKind.Duration, quantile: 0.99).Failed,
        (canary.Errors / (double)canary.Latencies.Length) > (baseline.Errors / (double)baseline.Latencies.Length) + 0.05,
    ];
}

/// <summary>The sequential judge, alpha 0.05 per metric, a 5 ms floor on latencies, no allowed increase.</summary>
public sealed class SequentialSimJudge : SimulatedJudge
{
    private static readonly JudgeOptions Options = new(JudgeDirection.Increase, 0.98, null, null, true, OutlierHandling.Keep, 1, false, TimeSpan.FromMilliseconds(5), JudgeMethod.Sequential, 0.05);
    private static readonly BuiltinMetric[] Queries = [BuiltinMetric.Latency, BuiltinMetric.LatencyP99, BuiltinMetric.ErrorRate];
    private readonly SequentialState[] states = [.. Queries.Select(q => SequentialState.Start("baseline", SequentialJudge.CountDirection(Options, q)))];
    private long look;

    public override string Name => "sequential (alpha 0.05, tolerance 5 ms)";

    public override SimulatedJudge Start() => new SequentialSimJudge();

    public override bool[] Look((double[] Latencies, long Errors) canary, (double[] Latencies, long Errors) baseline)
    {
        look++;
        var c = new MetricValue(null, canary.Latencies, null, new MetricCounts(canary.Latencies.Length, canary.Errors), look);
        var b = new MetricValue(null, baseline.Latencies, null, new MetricCounts(baseline.Latencies.Length, baseline.Errors), look);
        var failed = new bool[Queries.Length];
        for (var i = 0; i < Queries.Length; i++)
        {
            (states[i], var j) = SequentialJudge.Look(states[i], Metrics[i], Options, Queries[i], c, b, "baseline");
            failed[i] = j.Failed;
        }

        return failed;
    }
}
