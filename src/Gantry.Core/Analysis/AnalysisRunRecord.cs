using Gantry.Core.Analysis.Judge;

namespace Gantry.Core.Analysis;

/// <summary>
/// An analysis run as stored with its rollout: every metric's measurements with their sentences, the
/// judge's scores, the phase and why. It is the evidence behind a rollout's decision.
/// </summary>
public sealed record AnalysisRunRecord(
    string Key,
    string RolloutId,
    ValueList<string> Templates,
    string Purpose,
    AnalysisPhase Phase,
    string Message,
    ValueList<MetricResult> Metrics,
    ValueList<Judgement> Judgements,
    DateTimeOffset StartedAt,
    DateTimeOffset UpdatedAt);
