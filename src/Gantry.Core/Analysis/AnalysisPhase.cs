namespace Gantry.Core.Analysis;

/// <summary>The phase of an analysis run or of one measurement (Argo Rollouts semantics).</summary>
public enum AnalysisPhase
{
    Pending,
    Running,
    Successful,
    Failed,
    Error,
    Inconclusive,
}

public static class AnalysisPhaseExtensions
{
    public static bool IsCompleted(this AnalysisPhase phase) => phase is AnalysisPhase.Successful or AnalysisPhase.Failed or AnalysisPhase.Error or AnalysisPhase.Inconclusive;
}
