using Gantry.Core.Cluster;
using Gantry.Server.Reconciler;

namespace Gantry.Server.Cluster;

/// <summary>
/// Whether this control plane drives the rollouts. A server on its own store always does; replicas sharing a
/// store drive only while they hold the <see cref="LeaseName"/> lease (<see cref="LeaderElector"/>), and their writes
/// of rollouts are fenced by its token.
/// </summary>
public sealed class Leadership
{
    public const string LeaseName = "control-plane";

    private volatile Lease? lease;
    private volatile bool leading;

    private Leadership(string replica, bool clustered)
    {
        Replica = replica;
        Clustered = clustered;
        leading = !clustered;
    }

    /// <summary>A server on its own store: it leads, always.</summary>
    public static Leadership Alone(string replica = "main") => new(replica, clustered: false);

    /// <summary>One of several replicas: it leads once the elector has taken the lease.</summary>
    public static Leadership AmongReplicas(string replica) => new(replica, clustered: true);

    /// <summary>This replica's name (unique among the replicas of a store).</summary>
    public string Replica { get; }

    public bool Clustered { get; }

    public bool IsLeader => leading;

    /// <summary>The lease as last seen (null before the elector's first look, or alone).</summary>
    public Lease? Lease => lease;

    /// <summary>Whether this replica knows who leads (alone: always).</summary>
    public bool Known => !Clustered || lease is not null;

    /// <summary>What a write made as the leader must still match to commit (null alone).</summary>
    public LeaseFence? Fence => Clustered && leading && lease is { } l ? new LeaseFence(l.Name, l.Holder, l.Token) : null;

    /// <summary>Why the elector could not reach the store at its last try (null when it could).</summary>
    public string? StoreError { get; internal set; }

    /// <summary>Pulsed whenever this replica starts or stops leading.</summary>
    public Signal Changed { get; } = new();

    /// <summary>The lease as the store returned it: this replica leads when it holds it.</summary>
    internal void Observe(Lease seen)
    {
        lease = seen;
        Set(seen.Holder == Replica);
    }

    /// <summary>The lease could not be renewed before it expired (the store is away): stop leading.</summary>
    internal void Lose() => Set(false);

    private void Set(bool value)
    {
        if (leading != value)
        {
            leading = value;
            Changed.Pulse();
        }
    }

    /// <summary>Waits until this replica leads (<paramref name="lead"/>) or no longer does.</summary>
    public async Task UntilAsync(bool lead, TimeProvider time, CancellationToken ct)
    {
        while (leading != lead)
        {
            await Changed.WaitAsync(TimeSpan.FromMilliseconds(250), time, ct);
        }
    }
}
