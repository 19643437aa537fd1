using Gantry.Core.Strategies;

namespace Gantry.Core.Rollouts;

/// <summary>An event as stored: numbered globally (<see cref="Id"/>, for streams) and per rollout (<see cref="Seq"/>, gap-free).</summary>
public sealed record StoredEvent(long Id, string RolloutId, int Seq, long Revision, DateTimeOffset Time, string Service, string Environment, string Type, string Message);

/// <summary>
/// An event with what its commit was: who made it (<c>null</c>: Gantry itself), the phase the rollout was left
/// in, the release's share of the traffic then and the largest share it had had up to then.
/// </summary>
public sealed record CommittedEvent(StoredEvent Event, string? Actor, RolloutPhase Phase, int Share, int Peak)
{
    public bool BySystem => Actor is null;
}

/// <summary>A rollout's new state, the revision it replaces, and the events of the change.</summary>
public sealed record RolloutChange(RolloutState Rollout, long ExpectedRevision, IReadOnlyList<RolloutEvent> Events);

/// <summary>Why a write was not made; nothing changed.</summary>
public enum CommitOutcome
{
    Committed,

    /// <summary>The rollout changed since it was read (another writer): read it again and decide again.</summary>
    Conflict,

    /// <summary>Another rollout of the same service and environment is still active.</summary>
    Busy,
}

/// <summary>Which rollouts to list, newest first.</summary>
public sealed record RolloutQuery(string? Service = null, string? Environment = null, bool ActiveOnly = false, int Limit = 50);

/// <summary>
/// Where rollouts, their events, the followers' cursors and the observed instances are kept. Every write is one transaction: a state and the
/// events it produced are committed together or not at all.
/// </summary>
public interface IRolloutStore : IAsyncDisposable
{
    /// <summary>The rollout's id for the next rollout of a service in an environment (for example <c>web-production-3</c>).</summary>
    Task<string> NextIdAsync(string service, string environment, CancellationToken ct);

    /// <summary>
    /// Stores a new rollout (with its release) unless another one of the service and environment is active;
    /// when it starts a queued deploy, <paramref name="fromQueue"/> leaves the queue in the same transaction, and
    /// a rollback marks the rollout it replaces (<paramref name="marks"/>, if still at its expected revision) in it too.
    /// </summary>
    Task<CommitOutcome> CreateAsync(RolloutState rollout, IReadOnlyList<RolloutEvent> events, CancellationToken ct, long? fromQueue = null, Audit.AuditContext? who = null, RolloutChange? marks = null);

    /// <summary>Replaces a rollout's state if it is still at <paramref name="expectedRevision"/>, with its events.</summary>
    Task<CommitOutcome> SaveAsync(RolloutState rollout, long expectedRevision, IReadOnlyList<RolloutEvent> events, CancellationToken ct, Audit.AuditContext? who = null, Cluster.LeaseFence? fence = null);

    Task<RolloutState?> GetAsync(string id, CancellationToken ct);

    Task<IReadOnlyList<RolloutState>> ListAsync(RolloutQuery query, CancellationToken ct);

    /// <summary>The newest rollout of every service and environment (of <paramref name="service"/> alone when given): together they say what should run.</summary>
    Task<IReadOnlyList<RolloutState>> LatestPerTargetAsync(CancellationToken ct, string? service = null);

    /// <summary>
    /// A number that moves with every committed change bearing on what should run or how traffic is split (a rollout
    /// created or saved, a deploy queued, a maintenance or pause switch), by whichever replica: equal marks, nothing of that changed.
    /// </summary>
    Task<long> ChangeMarkAsync(CancellationToken ct);

    /// <summary>Events after <paramref name="afterId"/>, oldest first, optionally of one rollout.</summary>
    Task<IReadOnlyList<StoredEvent>> EventsAsync(long afterId, string? rolloutId, int limit, CancellationToken ct);

    /// <summary>The id of the newest stored event (0 when there is none): where a reader that wants only what comes next starts.</summary>
    Task<long> LastEventIdAsync(CancellationToken ct);

    /// <summary>Events after <paramref name="afterId"/> with what their commits were, oldest first (events stored before this was kept are left out).</summary>
    Task<IReadOnlyList<CommittedEvent>> CommittedEventsAsync(long afterId, int limit, CancellationToken ct);

    /// <summary>How far the follower <paramref name="name"/> has read the event log (0 when it never has).</summary>
    Task<long> CursorAsync(string name, CancellationToken ct);

    /// <summary>Records that the follower <paramref name="name"/> has dealt with every event up to <paramref name="position"/>.</summary>
    Task MoveCursorAsync(string name, long position, CancellationToken ct);

    /// <summary>Replaces the instance records of a service in an environment with what was observed now.</summary>
    Task SaveInstancesAsync(string service, string environment, IReadOnlyList<InstanceRecord> instances, CancellationToken ct);

    /// <summary>The instance records, optionally of one service and environment.</summary>
    Task<IReadOnlyList<InstanceRecord>> InstancesAsync(string? service, string? environment, CancellationToken ct);
}

/// <summary>Releases and the deploy queue: what was deployed of a service, and the deploys waiting behind an active rollout.</summary>
public interface IReleaseStore
{
    /// <summary>Puts a deploy in the queue of its service and environment; returns it with its id.</summary>
    Task<QueuedDeploy> EnqueueAsync(QueuedDeploy deploy, CancellationToken ct);

    /// <summary>
    /// Takes a deploy out of the queue without starting it; with <paramref name="who"/>, audited (cancelled by a
    /// person, or dropped by Gantry with <paramref name="why"/>) in the same transaction. False when it was not queued.
    /// </summary>
    Task<bool> RemoveQueuedAsync(long id, CancellationToken ct, Audit.AuditContext? who = null, string? why = null);

    /// <summary>The deploys waiting, oldest first, optionally of one service and environment.</summary>
    Task<IReadOnlyList<QueuedDeploy>> QueuedAsync(string? service, string? environment, CancellationToken ct);

    /// <summary>The releases of a service, newest first.</summary>
    Task<IReadOnlyList<StoredRelease>> ReleasesAsync(string service, CancellationToken ct);
}


/// <summary>A deploy waiting for the active rollout of its service and environment to end.</summary>
public sealed record QueuedDeploy(long Id, string Service, string Environment, Release Release, string CreatedBy, DateTimeOffset CreatedAt);

/// <summary>An instance as last observed: where it listens, which process, its health.</summary>
public sealed record InstanceRecord(
    string Id, string Service, string Environment, string Version, Manifest.Values.Endpoint Address,
    int? ProcessId, string Phase, int Restarts, string? LastError, DateTimeOffset ObservedAt)
{
    /// <summary>The instance's set within its service and environment (null in records written before it was kept: its version).</summary>
    public string? SetKey { get; init; }

    /// <summary>Its index in the set (which instances may take traffic: the first <c>Routed</c>).</summary>
    public int Index { get; init; }
}

/// <summary>A release as first deployed.</summary>
public sealed record StoredRelease(string Service, Release Release, DateTimeOffset CreatedAt);
