namespace Gantry.Core.Analysis;

/// <summary>Analysis runs: every measurement and verdict of a rollout's analyses, as snapshots.</summary>
public interface IAnalysisStore
{
    /// <summary>Stores an analysis run as it is now (replacing its previous snapshot).</summary>
    Task SaveAnalysisAsync(AnalysisRunRecord run, CancellationToken ct);

    /// <summary>The analysis runs of a rollout, oldest first.</summary>
    Task<IReadOnlyList<AnalysisRunRecord>> AnalysisAsync(string rolloutId, CancellationToken ct);
}
