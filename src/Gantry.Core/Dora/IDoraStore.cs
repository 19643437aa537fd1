namespace Gantry.Core.Dora;

/// <summary>The facts DORA metrics are computed from: deploy rollouts created and incidents opened in a period.</summary>
public interface IDoraStore
{
    Task<(IReadOnlyList<DeploymentFact> Rollouts, IReadOnlyList<RestoreFact> Incidents)> DoraFactsAsync(string? service, string? environment, DateTimeOffset since, DateTimeOffset until, CancellationToken ct);
}
