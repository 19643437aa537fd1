using Gantry.Core.Audit;
using Gantry.Server.Incidents;
using Gantry.Server.Reconciler;
using Gantry.Server.Rollouts;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Gantry.Server.Hosting;

/// <summary>Runs the reconcile loop for as long as the server runs.</summary>
public sealed class ReconcilerLoop(RolloutReconciler reconciler) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        reconciler.Forget();
        return reconciler.RunAsync(stoppingToken);
    }
}

/// <summary>
/// Hands every commit to incidents and notifications (<see cref="RolloutFollower"/>) as soon as it is made: woken by
/// a commit here, or by a pass that found the store's change mark moved (a commit by another replica). At rest it
/// reads nothing but catches up once a resync period; after a handler failed, within a second.
/// </summary>
public sealed class CommitFollowing(RolloutFollower follower, ReconcilerSignals signals, TimeProvider time, ILogger<CommitFollowing> logger)
    : AfterPassService(signals, time, logger)
{
    private readonly ReconcilerSignals signals = signals;
    private volatile bool caughtUp;

    protected override Signal Wake => signals.Committed;

    protected override TimeSpan Period => caughtUp ? signals.Resync : TimeSpan.FromSeconds(1);

    /// <summary>Commits made before a restart and not handed over yet are handed over at once.</summary>
    protected override bool RunsAtStart => true;

    protected override async Task RunOnceAsync(CancellationToken ct)
    {
        caughtUp = false;
        caughtUp = await follower.FollowAsync(ct);
    }
}

/// <summary>
/// Starts the oldest queued deploy of every target whose newest rollout has ended: after a pass that saw something
/// change (a rollout ending, a deploy queued by any replica: both move the store's change mark). While deploys wait
/// (for a window, the end of a freeze or a soak) it looks every second; with none queued, once a resync period.
/// </summary>
public sealed class QueueStarter(RolloutReconciler reconciler, IReleaseStore store, DeployService deploys, ReconcilerSignals signals, TimeProvider time, ILogger<QueueStarter> logger)
    : AfterPassService(signals, time, logger)
{
    private readonly ReconcilerSignals signals = signals;
    private volatile bool waits = true;

    protected override TimeSpan Period => waits ? TimeSpan.FromSeconds(1) : signals.Resync;

    /// <summary>Deploys queued before a restart are looked at once.</summary>
    protected override bool RunsAtStart => true;

    protected override async Task RunOnceAsync(CancellationToken ct)
    {
        // One read of the queue, then only the targets something waits for: the cost does not grow with the services.
        waits = true;
        var queue = await store.QueuedAsync(null, null, ct);
        waits = queue.Count > 0;
        var waiting = queue.Select(q => new Core.Runtime.TargetId(q.Service, q.Environment)).ToHashSet();
        foreach (var target in reconciler.Targets.Where(t => t.State.Phase.IsTerminal() && waiting.Contains(t.State.Target)))
        {
            await deploys.StartQueuedAsync(target.State.Service, target.State.Environment, ct);
        }
    }
}

/// <summary>Looks at every standing objective at its interval (<see cref="Slo.SloWatcher"/>); idle when no service has one.</summary>
public sealed class SloLooks(Slo.SloWatcher watcher, ReconcilerSignals signals, TimeProvider time, ILogger<SloLooks> logger)
    : AfterPassService(signals, time, logger)
{
    protected override TimeSpan Period => watcher.Any ? watcher.Interval : TimeSpan.FromHours(1);

    protected override TimeSpan MinInterval => Period;

    protected override Task RunOnceAsync(CancellationToken ct) => watcher.Any ? watcher.LookAsync(ct) : Task.CompletedTask;
}

/// <summary>Escalates incidents nobody acknowledged in time.</summary>
public sealed class Escalation(IncidentService incidents, ReconcilerSignals signals, TimeProvider time, ILogger<Escalation> logger)
    : AfterPassService(signals, time, logger)
{
    protected override Task RunOnceAsync(CancellationToken ct) => incidents.EscalateDueAsync(ct);
}

/// <summary>
/// Automatic promotion (<c>promotion: { auto: true }</c>): the newest release that succeeded in the source
/// environment is deployed to the environment once it has soaked, unless it was already rolled out there
/// (whatever came of it). It looks after a commit (a rollout that succeeded in a source environment, here or by
/// another replica: the store's change mark), when the earliest soak it waits for is over, and 2 s after a deploy
/// refused for now (a freeze, a gate, another active rollout); otherwise once a resync period. Each look reads the
/// history of every promoted service and environment, so at rest it reads nothing; with no environment promoted
/// automatically it never runs.
/// </summary>
public sealed class AutoPromotion(GantryManifest manifest, IRolloutStore store, DeployService deploys, ReconcilerSignals signals, TimeProvider time, ILogger<AutoPromotion> logger)
    : AfterPassService(signals, time, logger)
{
    /// <summary>Who the automatic promotions are made by, in rollouts and the audit trail.</summary>
    public const string Actor = "gantry (auto-promotion)";

    private static readonly TimeSpan Retry = TimeSpan.FromSeconds(2);
    private readonly ReconcilerSignals signals = signals;
    private readonly bool any = manifest.Environments.Any(e => e.Promotion is { Auto: true });
    private DateTimeOffset? lookAgainAt;

    protected override Signal Wake => signals.Committed;

    protected override bool RunsAtStart => true;

    protected override TimeSpan Period => lookAgainAt is { } at
        ? TimeSpan.FromTicks(Math.Clamp((at - Now).Ticks, TimeSpan.TicksPerMillisecond, signals.Resync.Ticks))
        : signals.Resync;

    /// <summary>At most one look every couple of seconds, however many commits come.</summary>
    protected override TimeSpan MinInterval => Retry;

    protected override Task ExecuteAsync(CancellationToken stoppingToken) => any ? base.ExecuteAsync(stoppingToken) : Task.CompletedTask;

    protected override async Task RunOnceAsync(CancellationToken ct)
    {
        var now = Now;
        DateTimeOffset? again = null;
        void LookAgainAt(DateTimeOffset at) => again = again is { } sooner && sooner <= at ? sooner : at;
        foreach (var environment in manifest.Environments.Where(e => e.Promotion is { Auto: true }))
        {
            foreach (var service in manifest.Services)
            {
                var source = await store.ListAsync(new RolloutQuery(service.Name, environment.Promotion!.From, Limit: 1000), ct);
                if (source.Where(r => r.Kind == RolloutKind.Deploy && r.Phase == RolloutPhase.Succeeded).MaxBy(r => r.CreatedAt) is not { } newest)
                {
                    continue;
                }

                var version = newest.Release.Version;
                var here = await store.ListAsync(new RolloutQuery(service.Name, environment.Name, Limit: 1000), ct);
                if (here.Any(r => r.Release.Version == version))
                {
                    continue;
                }

                if (Core.Policies.PromotionRule.Check(environment.Promotion, environment.Name, service.Name, version, source, now) is { Allowed: false } verdict)
                {
                    if (verdict.AllowedAt is { } soaked)
                    {
                        LookAgainAt(soaked);
                    }

                    continue;
                }

                var release = newest.Release;
                var deployed = await deploys.DeployAsync(new DeployRequest(service.Name, version, environment.Name, release.Variables.ToDictionary(v => v.Key, v => v.Value, StringComparer.Ordinal), release.CommitSha, release.CommitTime, Secret: release.Secret), new AuditContext(Actor), ct);
                if (deployed.Problem is not null)
                {
                    LookAgainAt(now + Retry); // refused for now
                }
            }
        }

        lookAgainAt = again;
    }
}
