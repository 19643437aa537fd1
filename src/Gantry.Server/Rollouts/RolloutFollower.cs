using Microsoft.Extensions.Logging;

namespace Gantry.Server.Rollouts;

/// <summary>
/// One commit of a rollout as the event log keeps it: its events, with who made it, the phase it left, the
/// release's share of the traffic then and the largest it had had; <see cref="Rollout"/> is the rollout as it
/// is now (its service, environment, release and creation do not change).
/// </summary>
public sealed record RolloutCommit(RolloutState Rollout, IReadOnlyList<CommittedEvent> Events)
{
    public RolloutPhase Phase => Events[^1].Phase;

    public int Peak => Events.Max(e => e.Peak);

    public bool BySystem => Events[0].BySystem;
}

/// <summary>Something that follows rollout commits (incidents, notifications); handed each commit at least once, so it must be idempotent.</summary>
public interface ICommitHandler
{
    Task HandleAsync(RolloutCommit commit, CancellationToken ct);
}

/// <summary>
/// Follows the rollout event log for what comes after a commit (incidents, notifications): reads the events
/// after its cursor, hands each commit to each of <paramref name="handlers"/> in turn, then moves the cursor. A crash between a
/// commit and its handling loses nothing: the next run (at the latest the first pass after a restart) hands it
/// over again, so handlers must be idempotent. A handler that fails stops the run there; the commit is handed over again on the next run.
/// </summary>
public sealed partial class RolloutFollower(IRolloutStore store, IEnumerable<ICommitHandler> handlers, ILogger<RolloutFollower> logger) : IDisposable
{
    /// <summary>The cursor's name in the store.</summary>
    public const string Name = "rollout-events";

    private const int Batch = 500;
    private readonly SemaphoreSlim gate = new(1, 1);

    /// <summary>Hands over every commit not handed over yet; one run at a time. False when a handler failed and the rest waits for the next run.</summary>
    public async Task<bool> FollowAsync(CancellationToken ct)
    {
        await gate.WaitAsync(ct);
        try
        {
            var position = await store.CursorAsync(Name, ct);
            while (true)
            {
                var events = await store.CommittedEventsAsync(position, Batch, ct);
                for (var i = 0; i < events.Count;)
                {
                    var first = events[i].Event;
                    var end = i + 1;
                    while (end < events.Count && events[end].Event.RolloutId == first.RolloutId && events[end].Event.Revision == first.Revision)
                    {
                        end++;
                    }

                    if (await store.GetAsync(first.RolloutId, ct) is { } rollout)
                    {
                        try
                        {
                            var commit = new RolloutCommit(rollout, events.Skip(i).Take(end - i).ToList());
                            foreach (var handler in handlers)
                            {
                                await handler.HandleAsync(commit, ct);
                            }
                        }
                        catch (Exception ex) when (ex is not OperationCanceledException)
                        {
                            LogFailed(logger, first.RolloutId, first.Id, ex);
                            return false;
                        }
                    }

                    position = events[end - 1].Event.Id;
                    await store.MoveCursorAsync(Name, position, ct);
                    i = end;
                }

                if (events.Count < Batch)
                {
                    return true;
                }
            }
        }
        finally
        {
            gate.Release();
        }
    }

    public void Dispose() => gate.Dispose();

    [LoggerMessage(Level = LogLevel.Error, Message = "incidents or notifications of rollout {Id} (event {EventId}) failed; tried again within a second")]
    private static partial void LogFailed(ILogger logger, string id, long eventId, Exception ex);
}
