using Gantry.Core.Analysis;
using Gantry.Core.Rollouts;
using Gantry.Core.Runtime;

namespace Gantry.Api;

/// <summary>A deploy as asked: which service, which version, where, with which variables, by whom.</summary>
public sealed record DeployRequest(
    string Service,
    string Version,
    string? Environment = null,
    IReadOnlyDictionary<string, string>? Set = null,
    string? CommitSha = null,
    DateTimeOffset? CommitTime = null,
    bool Queue = false,
    bool Emergency = false,
    string? Reason = null,
    IReadOnlyList<string>? Secret = null);

/// <summary>A command to a rollout: a reason and, for promote, whether to skip every remaining step.</summary>
public sealed record CommandRequest(string? Reason = null, bool Full = false);

/// <summary>A rollback: where, and to which version (the previous release when not given).</summary>
public sealed record RollbackRequest(string? Environment = null, string? To = null, string? Reason = null)
{
    /// <summary>Traffic back in steps: the share left on the release rolled back at each step, falling to 0 (<c>50%,0%</c>); null: at once.</summary>
    public string? Steps { get; init; }

    /// <summary>How long each step holds (<c>1m</c> when not given); only with <see cref="Steps"/>.</summary>
    public string? Every { get; init; }

    /// <summary>Analysis templates (comma-separated) run at each step on the earlier release; only with <see cref="Steps"/>.</summary>
    public string? Analysis { get; init; }
}

/// <summary>One step of a rollout's strategy as shown: its text and whether it is done, running or to come.</summary>
public sealed record StepView(int Index, string Text, string Status);

/// <summary>One set's share of the traffic as shown: its role, weight and ready instances.</summary>
public sealed record TrafficView(string Version, string Role, int Weight, int Ready, int Replicas);

/// <summary>A rollout with what goes with it: its steps, instances, traffic split and analysis.</summary>
public sealed record RolloutView(
    RolloutState Rollout,
    IReadOnlyList<StepView> Steps,
    IReadOnlyList<TrafficView> Traffic,
    IReadOnlyList<InstanceStatus> Instances,
    AnalysisRunRecord? Analysis,
    AnalysisRunRecord? Background = null);

/// <summary>A service as the API shows it: its shape and, per environment, what runs.</summary>
public sealed record ServiceView(string Name, string Strategy, int Replicas, string Listen, IReadOnlyList<EnvironmentView> Environments);

/// <summary>
/// What runs of a service in one environment: the stable release, the newest rollout with its message, and the split of
/// traffic it holds now (so a list of every service needs no call per rollout).
/// </summary>
public sealed record EnvironmentView(string Name, string? Stable, string? LatestRollout, string? Phase, string? Maintenance = null, TimeSpan? Paused = null,
    string? Message = null, IReadOnlyList<TrafficView>? Traffic = null);

/// <summary>The last lines an instance wrote.</summary>
public sealed record InstanceLogs(string Instance, string Version, IReadOnlyList<string> Lines);
