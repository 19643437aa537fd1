using Gantry.Core.Analysis.Sequential;
using Gantry.Core.Manifest;

namespace Gantry.Core.Analysis.Judge;

/// <summary>
/// What a sequential judge has seen of one metric in one analysis run: every latency of each side (as a
/// sketch), the evidence of its counts (errors, or requests beyond the baseline's running percentile), where each side's provider is up to, and the verdict once reached (a
/// verdict holds: later looks cannot take it back). Evidence starts again when the baseline becomes another set
/// (a fresh baseline replacing the stable one), and <see cref="Restarts"/> says how often it did.
/// </summary>
public sealed record SequentialState(
    string? BaselineSet,
    long? CanaryAfter,
    long? BaselineAfter,
    LatencySketch Canary,
    LatencySketch Baseline,
    CountEvidence Counts,
    MetricJudgement? Verdict,
    int Restarts)
{
    public static SequentialState Start(string? baselineSet, JudgeDirection direction) =>
        new(baselineSet, null, null, LatencySketch.Empty, LatencySketch.Empty, CountEvidence.Start(direction), null, 0);
}
