using System.Globalization;
using System.Text.RegularExpressions;
using Gantry.Core.Access;
using Gantry.Core.Audit;
using Gantry.Server.Reconciler;

namespace Gantry.Server.Rollouts;

/// <summary>
/// Deploys as people and the queue ask for them: the request checked (service, environment, version, variables,
/// secrets), admitted by the rules (<see cref="AdmissionGate"/>), then created; or queued behind the active rollout.
/// </summary>
public sealed partial class DeployService(GantryManifest manifest, IReleaseStore store, AdmissionGate admission, RolloutCreator creator, ReconcilerSignals signals, TimeProvider time)
{
    /// <summary>Who drops a queued deploy that can no longer start, in the audit trail.</summary>
    public const string QueueActor = "gantry (deploy queue)";

    /// <summary>Most deploys that may wait in line for one service and environment.</summary>
    public const int MaxQueued = 10;

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*$")]
    private static partial Regex VariableName();

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9._+\-]{0,127}$")]
    private static partial Regex VersionSyntax();

    public static bool IsValidVersion(string? version) => !string.IsNullOrWhiteSpace(version) && VersionSyntax().IsMatch(version);

    public async Task<Result<RolloutState>> DeployAsync(DeployRequest request, AuditContext who, CancellationToken ct, Principal? caller = null)
    {
        if (CheckRequest(request, out var service, out var environment) is { } problem)
        {
            return problem;
        }

        var admitted = await admission.DecideAsync(service.Name, environment, request.Version, ct, caller, request.Emergency, request.Reason, request.Queue);
        if (!admitted.Allowed)
        {
            return AdmissionGate.Problem(admitted);
        }

        if (UnknownSecrets(request) is { } unknown)
        {
            return unknown;
        }

        return await creator.CreateAsync(new NewRollout(service, environment, ReleaseOf(request), RolloutKind.Deploy, who, request.Emergency ? request.Reason!.Trim() : null,
            Emergency: admitted.Emergency, AwaitsChecklist: admitted.AwaitsChecklist, AwaitsApproval: admitted.AwaitsApproval), ct);
    }

    /// <summary>Queues a deploy behind the active rollout of its service and environment; it starts when that one ends.</summary>
    public async Task<Result<QueuedDeploy>> QueueAsync(DeployRequest request, AuditContext who, CancellationToken ct)
    {
        if (CheckRequest(request, out var service, out var environment) is { } problem)
        {
            return problem;
        }

        // A release still soaking in the source environment, or outside a window, may wait in the queue; one that never got there may not.
        var admitted = await admission.DecideAsync(service.Name, environment, request.Version, ct);
        if (!admitted.Allowed && !admitted.OnlyForNow)
        {
            return AdmissionGate.Problem(admitted);
        }

        if (UnknownSecrets(request) is { } unknown)
        {
            return unknown;
        }

        if ((await store.QueuedAsync(service.Name, environment, ct)).Count >= MaxQueued)
        {
            return ProblemCodes.QueueFull.With(string.Create(CultureInfo.InvariantCulture,
                $"{MaxQueued} deploys of {service.Name} already wait in {environment}: cancel one (gantry queue cancel ID) or wait"));
        }

        var queued = await store.EnqueueAsync(new QueuedDeploy(0, service.Name, environment, ReleaseOf(request), who.Actor, time.GetUtcNow()), ct);
        signals.Wake.Pulse();
        return queued;
    }

    /// <summary>Starts the oldest queued deploy of a service and environment if nothing is active there and admission lets it in now.</summary>
    public async Task StartQueuedAsync(string serviceName, string environment, CancellationToken ct)
    {
        var queued = await store.QueuedAsync(serviceName, environment, ct);
        if (queued.Count == 0 || manifest.FindService(serviceName) is not { } service)
        {
            return;
        }

        // The gate is asked again when the deploy starts: an evaluation posted while it waited counts.
        var next = queued[0];
        var admitted = await admission.DecideAsync(serviceName, environment, next.Release.Version, ct);
        if (admitted.OnlyForNow)
        {
            // Queued deploys wait for the next window, the end of the freeze, or the end of their soak.
            return;
        }

        var queue = new AuditContext(QueueActor, Source: "the deploy queue");
        if (!admitted.Allowed)
        {
            // Rolled back or replaced in the source environment meanwhile, or refused by the gate: it can never go in.
            await store.RemoveQueuedAsync(next.Id, ct, queue, admitted.Message);
            return;
        }

        var result = await creator.CreateAsync(new NewRollout(service, environment, next.Release, RolloutKind.Deploy, new AuditContext(next.CreatedBy, Source: "the deploy queue"),
            FromQueue: next.Id, AwaitsChecklist: admitted.AwaitsChecklist, AwaitsApproval: admitted.AwaitsApproval), ct);
        if (result.Problem is { } problem && problem.Code != ProblemCodes.RolloutInProgress.Code)
        {
            // It can never start (its version already runs, say): drop it rather than block the queue.
            await store.RemoveQueuedAsync(next.Id, ct, queue, problem.Detail);
        }
    }

    /// <summary>A queued deploy by its number.</summary>
    public async Task<Result<QueuedDeploy>> QueuedAsync(long id, CancellationToken ct) =>
        (await store.QueuedAsync(null, null, ct)).FirstOrDefault(q => q.Id == id) is { } found
            ? found
            : ProblemCodes.NotQueued.With(string.Create(CultureInfo.InvariantCulture, $"no deploy #{id} waits in the queue (it started, was cancelled, or never was)"));

    /// <summary>Takes a queued deploy out of line, audited with who and why.</summary>
    public async Task<Result<QueuedDeploy>> CancelQueuedAsync(long id, string? reason, AuditContext who, CancellationToken ct)
    {
        if (Requests.TooLong(reason) is { } tooLong)
        {
            return tooLong;
        }

        var found = await QueuedAsync(id, ct);
        if (found.Value is not { } queued)
        {
            return found;
        }

        return await store.RemoveQueuedAsync(id, ct, who with { Reason = reason }, $"cancelled by {who.Actor}" + (string.IsNullOrWhiteSpace(reason) ? string.Empty : ": " + reason.Trim()))
            ? queued with { Release = queued.Release.Redacted() }
            : await QueuedAsync(id, ct);
    }
}
