using System.Globalization;
using Gantry.Core.Audit;
using Gantry.Core.Rollouts;

namespace Gantry.Server.Rollouts;

/// <summary>The deploy queue: deploys waiting behind an active rollout, bounded, cancellable, checked again when they start.</summary>
public sealed partial class RolloutService
{
    /// <summary>Queues a deploy behind the active rollout of its service and environment; it starts when that one ends.</summary>
    public async Task<Result<QueuedDeploy>> QueueAsync(DeployRequest request, AuditContext who, CancellationToken ct)
    {
        if (CheckRequest(request, out var service, out var environment) is { } problem)
        {
            return problem;
        }

        if (await gates.CheckAsync(environment, service.Name, request.Version, ct) is { } refused)
        {
            return refused;
        }

        // A release still soaking in the source environment may wait in the queue; one that never got there may not.
        if (await PromotionAsync(environment, service.Name, request.Version, ct) is { Allowed: false, AllowedAt: null } notPromoted)
        {
            return new Problem(409, "Not promoted", notPromoted.Message, "promotion");
        }

        if (UnknownSecrets(request) is { } unknown)
        {
            return unknown;
        }

        var release = ReleaseOf(request);
        if ((await store.QueuedAsync(service.Name, environment, ct)).Count >= MaxQueued)
        {
            return new Problem(409, "Queue full", string.Create(CultureInfo.InvariantCulture,
                $"{MaxQueued} deploys of {service.Name} already wait in {environment}: cancel one (gantry queue cancel ID) or wait"), "queue-full");
        }

        var queued = await store.EnqueueAsync(new QueuedDeploy(0, service.Name, environment, release, who.Actor, time.GetUtcNow()), ct);
        reconciler.Wake.Pulse();
        return queued;
    }

    /// <summary>Starts the oldest queued deploy of a service and environment if nothing is active there.</summary>
    public async Task StartQueuedAsync(string serviceName, string environment, CancellationToken ct)
    {
        var queued = await store.QueuedAsync(serviceName, environment, ct);
        if (queued.Count == 0 || manifest.FindService(serviceName) is not { } service)
        {
            return;
        }

        var next = queued[0];
        var promotion = await PromotionAsync(environment, serviceName, next.Release.Version, ct);
        if (!await CalendarAllowsAsync(environment, ct) || promotion is { Allowed: false, AllowedAt: not null })
        {
            // Queued deploys wait for the next window, the end of the freeze, or the end of their soak.
            return;
        }

        var queue = new AuditContext(QueueActor, Source: "the deploy queue");
        if (promotion is { Allowed: false })
        {
            // Rolled back or replaced in the source environment meanwhile: it can never go in.
            await store.RemoveQueuedAsync(next.Id, ct, queue, promotion.Message);
            return;
        }

        // The gate is asked again when the deploy starts: an evaluation posted while it waited counts.
        if (await gates.CheckAsync(environment, serviceName, next.Release.Version, ct) is { } refused)
        {
            await store.RemoveQueuedAsync(next.Id, ct, queue, refused.Detail);
            return;
        }

        var result = await CreateAsync(service, environment, next.Release, RolloutKind.Deploy, new AuditContext(next.CreatedBy, Source: "the deploy queue"), null, null, next.Id, ct);
        if (result.Problem is { Code: not BusyCode } problem)
        {
            // It can never start (its version already runs, say): drop it rather than block the queue.
            await store.RemoveQueuedAsync(next.Id, ct, queue, problem.Detail);
        }
    }

    /// <summary>Who drops a queued deploy that can no longer start, in the audit trail.</summary>
    public const string QueueActor = "gantry (deploy queue)";

    /// <summary>Most deploys that may wait in line for one service and environment.</summary>
    public const int MaxQueued = 10;

    /// <summary>A queued deploy by its number.</summary>
    public async Task<Result<QueuedDeploy>> QueuedAsync(long id, CancellationToken ct) =>
        (await store.QueuedAsync(null, null, ct)).FirstOrDefault(q => q.Id == id) is { } found
            ? found
            : new Problem(404, "Not queued", string.Create(CultureInfo.InvariantCulture, $"no deploy #{id} waits in the queue (it started, was cancelled, or never was)"));

    /// <summary>Takes a queued deploy out of line, audited with who and why.</summary>
    public async Task<Result<QueuedDeploy>> CancelQueuedAsync(long id, string? reason, AuditContext who, CancellationToken ct)
    {
        if (TooLong(reason) is { } tooLong)
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
