using System.Globalization;
using Gantry.Core.Analysis;
using Gantry.Core.Manifest;
using Gantry.Core.Manifest.Values;
using Gantry.Core.Rollouts;

namespace Gantry.Core.Strategies;

/// <summary>
/// After promotion, for every strategy: post-promotion jobs and a watch window in which analysis runs and the previous
/// release is kept running out of traffic, so a failure rolls back at once.
/// </summary>
public static partial class RolloutEngine
{
    /// <summary>
    /// The new release has all traffic: succeed, or (with a watch or post-promotion jobs) start watching it, the previous
    /// release's set kept running out of traffic (<paramref name="previous"/> restarts it when the strategy stopped it).
    /// </summary>
    private static void Promoted(Changes c, ServiceSpec service, string message, InstanceSet? previous = null)
    {
        if (!Watches(service, c.State))
        {
            Succeed(c, service, message);
            return;
        }

        var sets = c.State.Sets.Select(s => s.Key == c.State.PriorKey && s.Role == SetRole.Retired ? s with { RemoveAt = null } : s).ToList();
        if (previous is not null && sets.All(s => s.Key != previous.Key))
        {
            sets.Add(previous with { Role = SetRole.Retired, Replicas = service.Replicas, Routed = 0, RemoveAt = null });
        }

        var length = service.Watch?.For ?? TimeSpan.Zero;
        var what = service.Watch is null ? "running its postPromotion jobs" : $"watching it for {DurationSyntax.Format(length)}";
        c.State = c.State with
        {
            Phase = RolloutPhase.Watching,
            Sets = [.. sets],
            WatchUntil = c.Now + length,
            Analysis = null,
            Background = null,
            StepUntil = null,
            Message = $"{message}; {what} ({c.State.PreviousVersion} kept running out of traffic)",
        };
        c.Event(RolloutEventType.Watching, c.State.Message);
        if (service.Watch is { Templates.IsEmpty: false } watch)
        {
            StartWatchAnalysis(c, watch);
        }
    }

    private static void StartWatchAnalysis(Changes c, WatchSpec watch)
    {
        var key = string.Create(CultureInfo.InvariantCulture, $"{c.State.Id}/{c.State.Attempt}/watch/{c.State.Revision}");
        c.State = c.State with { Background = new AnalysisRequest(key, watch.Templates, AnalysisRequest.WatchPurpose) };
        c.Event(RolloutEventType.AnalysisStarted, $"watch analysis {string.Join(", ", watch.Templates)} running until {c.State.WatchUntil:yyyy-MM-dd HH:mm:ss} UTC");
    }

    private static bool Watches(ServiceSpec service, RolloutState state) =>
        state.Kind == RolloutKind.Deploy && state.Strategy != StrategyKind.Initial && state.PriorKey is not null
        && (service.Watch is not null || service.JobsAt(JobHook.PostPromotion).Any());

    /// <summary>The watch: post-promotion jobs, the watch's analysis, until the window ends.</summary>
    private static void NextWatch(Changes c, ServiceSpec service, Observation observed)
    {
        if (c.State.Phase != RolloutPhase.Watching)
        {
            c.State = c.State with { Phase = RolloutPhase.Watching };
        }

        var jobs = AwaitJobs(c, service, observed, JobHook.PostPromotion, out var failure);
        if (jobs == JobsOutcome.Failed)
        {
            WatchFailed(c, service, observed, failure);
            return;
        }

        if (service.Watch is { Templates.IsEmpty: false } watch)
        {
            if (c.State.Background is not { } request)
            {
                StartWatchAnalysis(c, watch);
            }
            else if (!request.Completed && observed.Background is { } status && status.Key == request.Key && status.Phase.IsCompleted())
            {
                var templates = string.Join(", ", watch.Templates);
                if (status.Phase == AnalysisPhase.Successful)
                {
                    c.State = c.State with { Background = request with { Completed = true } };
                    c.Event(RolloutEventType.AnalysisSucceeded, $"watch analysis {templates} passed: {status.Message}");
                }
                else if (status.Phase == AnalysisPhase.Inconclusive)
                {
                    HoldForPerson(c, RolloutEventType.AnalysisInconclusive, $"watch analysis {templates} inconclusive: {status.Message}; resume to watch again, promote to accept the release, or abort to roll back");
                    return;
                }
                else
                {
                    WatchFailed(c, service, observed, $"watch analysis {templates} {status.Phase.ToString().ToLowerInvariant()}: {status.Message}");
                    return;
                }
            }
        }

        if (jobs == JobsOutcome.Running || observed.Now < c.State.WatchUntil)
        {
            if (jobs == JobsOutcome.Done)
            {
                c.Waiting($"{c.State.Release.Version} has all traffic: watching it until {c.State.WatchUntil:u} ({c.State.PreviousVersion} kept running out of traffic)");
            }

            return;
        }

        EndWatch(c, service, service.Watch is null ? $"{c.State.Release.Version} has all traffic; its postPromotion jobs passed" : $"{c.State.Release.Version} watched for {DurationSyntax.Format(service.Watch.For)} without a failure");
    }

    /// <summary>The watch is over: the previous release stops after its delay, the rollout succeeds.</summary>
    private static void EndWatch(Changes c, ServiceSpec service, string message)
    {
        var delay = service.Strategy is BlueGreenStrategy blueGreen ? blueGreen.ScaleDownDelay : c.Drain;
        c.State = c.State with
        {
            Sets = [.. c.State.Sets.Select(s => s.Role == SetRole.Retired && s.RemoveAt is null ? s with { RemoveAt = c.Now + delay } : s)],
            Job = null,
        };
        Succeed(c, service, message);
    }

    /// <summary>
    /// A failure in the watch (its analysis, a post-promotion job, the release's health): what the watch says to do. A
    /// rollback waits until the previous release is ready again (a rolling update starts it again when the watch begins):
    /// the failure is seen again at every look until then, and traffic never goes to instances that cannot take it.
    /// </summary>
    private static void WatchFailed(Changes c, ServiceSpec service, Observation observed, string reason)
    {
        var action = service.Watch?.OnFailure ?? WatchFailureAction.Rollback;
        var failed = $"the watch after promotion failed: {reason}";
        switch (action)
        {
            case WatchFailureAction.Incident:
                c.Event(RolloutEventType.WatchFailed, $"{failed}; {c.State.Release.Version} stays (onFailure: incident)");
                EndWatch(c, service, $"{failed}; {c.State.Release.Version} kept, an incident is opened (onFailure: incident)");
                break;
            case WatchFailureAction.Hold:
                c.Event(RolloutEventType.WatchFailed, failed);
                c.State = c.State with { Waits = c.State.Waits.With(WaitReason.FailedAnalysisHeld), Phase = RolloutPhase.Paused, Background = null, Message = $"{failed}; holding (onFailure: hold): abort rolls back to {c.State.PreviousVersion} at once, promote accepts {c.State.Release.Version}, resume watches again" };
                break;
            default:
                if (c.State.PriorKey is { } prior && c.State.SetOf(prior) is { } previous && observed.ReadyOf(previous) < previous.Replicas)
                {
                    c.Waiting(string.Create(CultureInfo.InvariantCulture, $"{failed}; rolling back once {previous.Version} is ready ({observed.ReadyOf(previous)}/{previous.Replicas})"));
                    return;
                }

                c.Event(RolloutEventType.WatchFailed, failed);
                Stop(c, service, RolloutPhase.RolledBack, $"{failed}; all traffic back on {c.State.PreviousVersion}");
                break;
        }
    }
}
