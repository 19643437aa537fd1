using System.Collections.Concurrent;
using Gantry.Core.Runtime;

namespace Gantry.Server.Reconciler;

/// <summary>
/// What the reconciler and the services around it share: the per-target locks that keep the loop and a
/// person's command from deciding for one target at once, and the signals that wake whoever waits.
/// </summary>
public sealed class ReconcilerSignals
{
    private readonly ConcurrentDictionary<TargetId, SemaphoreSlim> locks = new();

    /// <summary>What the reconciler's writes must still match to commit: the lease it drives by (null: a server alone).</summary>
    public Func<Core.Cluster.LeaseFence?> Fence { get; set; } = () => null;

    /// <summary>How often the reconciler visits every target and reads the router back even if nothing said it changed.</summary>
    public TimeSpan Resync { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Pulsed when something should be looked at now (a command, a new rollout).</summary>
    public Signal Wake { get; } = new();

    /// <summary>
    /// Pulsed after every commit of a rollout here, and when a pass finds the store's change mark moved (a commit by
    /// another replica): event streams and the commit followers read on.
    /// </summary>
    public Signal Committed { get; } = new();

    /// <summary>Pulsed after every reconcile pass that saw or did something (the change mark moved, a target visited, the routes applied): queued deploys, automatic promotion and escalation look again.</summary>
    public Signal Passed { get; } = new();

    /// <summary>The lock of one service in one environment.</summary>
    public SemaphoreSlim LockFor(TargetId target) => locks.GetOrAdd(target, _ => new SemaphoreSlim(1, 1));

    /// <summary>Commits of rollouts by commands here (<see cref="AfterCommit"/>, told under the target's lock before it is released).</summary>
    public long LocalCommits => Interlocked.Read(ref localCommits);

    private long localCommits;

    /// <summary>After a commit outside the loop, under the target's lock: followers read on and the loop looks now.</summary>
    public void AfterCommit()
    {
        Interlocked.Increment(ref localCommits);
        Committed.Pulse();
        Wake.Pulse();
    }
}
