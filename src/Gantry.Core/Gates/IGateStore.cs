namespace Gantry.Core.Gates;

/// <summary>Where gate evaluations are kept, with the release they judged.</summary>
public interface IGateStore
{
    /// <summary>Stores an evaluation; returns its id.</summary>
    Task<long> SaveEvaluationAsync(GateEvaluation evaluation, Audit.AuditContext who, CancellationToken ct);

    /// <summary>The newest evaluation of a gate for a service, of one version or of any.</summary>
    Task<GateEvaluation?> LatestEvaluationAsync(string gate, string service, string? version, CancellationToken ct);

    /// <summary>Records an override on the newest evaluation of a gate for a release; returns it, or null when there is none.</summary>
    Task<GateEvaluation?> OverrideAsync(string gate, string service, string version, GateOverride decision, CancellationToken ct, Audit.AuditContext? who = null);

    /// <summary>Evaluations newest first, optionally of one service and version.</summary>
    Task<IReadOnlyList<GateEvaluation>> EvaluationsAsync(string? service, string? version, int limit, CancellationToken ct);
}
