using System.Globalization;
using Gantry.Core.Manifest;
using Gantry.Core.Rollouts;

namespace Gantry.Core.Strategies;

/// <summary>Jobs at hook points: before the release starts, before it gets traffic, after promotion, after an abort or a rollback.</summary>
public static partial class RolloutEngine
{
    private enum JobsOutcome
    {
        Done,
        Running,
        Failed,
    }

    /// <summary>
    /// Runs the service's jobs at <paramref name="hook"/> once per attempt and records how each ended. Done when there
    /// are none or all passed; <paramref name="failure"/> says which failed and its last lines.
    /// </summary>
    private static JobsOutcome AwaitJobs(Changes c, ServiceSpec service, Observation observed, JobHook hook, out string failure)
    {
        failure = string.Empty;
        var jobs = service.JobsAt(hook).Select(j => j.Name).ToList();
        if (jobs.Count == 0 || c.State.Ran(hook))
        {
            return c.State.Jobs.FirstOrDefault(j => j.Hook == hook && j.Attempt == c.State.Attempt && !j.Succeeded) is { } failed
                ? Failure(failed, out failure)
                : JobsOutcome.Done;
        }

        var key = string.Create(CultureInfo.InvariantCulture, $"{c.State.Id}/{c.State.Attempt}/{hook.ManifestName()}");
        if (c.State.Job?.Key != key)
        {
            c.State = c.State with { Job = new JobRequest(key, hook, [.. jobs]) };
            c.Event(RolloutEventType.JobStarted, $"running the {hook.ManifestName()} job{(jobs.Count == 1 ? string.Empty : "s")} {string.Join(", ", jobs)}");
            return JobsOutcome.Running;
        }

        if (observed.Job is not { Finished: true } status || status.Key != key)
        {
            if (!c.State.Phase.IsTerminal())
            {
                c.Waiting(observed.Job is { } running && running.Key == key ? running.Message : $"running the {hook.ManifestName()} jobs {string.Join(", ", jobs)}");
            }

            return JobsOutcome.Running;
        }

        c.State = c.State with { Job = null, Jobs = [.. c.State.Jobs, .. status.Results] };
        foreach (var result in status.Results)
        {
            c.Event(result.Succeeded ? RolloutEventType.JobSucceeded : RolloutEventType.JobFailed, $"{hook.ManifestName()} job {result.Name}: {result.Summary}");
        }

        return status.Results.FirstOrDefault(r => !r.Succeeded) is { } first ? Failure(first, out failure) : JobsOutcome.Done;
    }

    private static JobsOutcome Failure(JobOutcome failed, out string failure)
    {
        var last = failed.Output.Split('\n').LastOrDefault(l => l.Trim().Length > 0)?.Trim();
        failure = $"{failed.Hook.ManifestName()} job {failed.Name} failed: {failed.Summary}{(last is null ? string.Empty : $" (last line: {last})")}";
        return JobsOutcome.Failed;
    }

    /// <summary>
    /// Before any instance of the new release starts: its preDeploy jobs (a deploy only). False while they run or when they
    /// failed (the rollout is then failed, nothing of the new release having started).
    /// </summary>
    private static bool PreDeploy(Changes c, ServiceSpec service, Observation observed)
    {
        if (!NeedsPreDeploy(service, c.State) || (c.State.Ran(JobHook.PreDeploy) && c.State.Job is null))
        {
            return true;
        }

        switch (AwaitJobs(c, service, observed, JobHook.PreDeploy, out var failure))
        {
            case JobsOutcome.Running:
                return false;
            case JobsOutcome.Failed:
                Stop(c, service, RolloutPhase.Failed, $"{failure}; no instance of {c.State.Release.Version} was started");
                return false;
            default:
                c.State = Place(service, c.State, c.Now);
                return true;
        }
    }

    private static bool NeedsPreDeploy(ServiceSpec service, RolloutState state) =>
        state.Kind == RolloutKind.Deploy && service.JobsAt(JobHook.PreDeploy).Any();

    /// <summary>
    /// Before the new release gets traffic (canary, blue-green, rolling): once its first instances are ready, its
    /// preTraffic jobs (smoke tests; blue-green's are served on the preview listener). False while waiting or when they
    /// failed (the rollout is then aborted).
    /// </summary>
    private static bool PreTraffic(Changes c, ServiceSpec service, Observation observed)
    {
        if (c.State.Kind != RolloutKind.Deploy || c.State.Strategy is StrategyKind.Initial or StrategyKind.Rollback
            || !service.JobsAt(JobHook.PreTraffic).Any() || (c.State.Ran(JobHook.PreTraffic) && c.State.Job is null)
            || c.State.SetOf(c.State.NewKey) is not { } fresh)
        {
            return true;
        }

        if (c.State.Job is null && !c.State.Ran(JobHook.PreTraffic))
        {
            // A rolling update's first batch starts out of traffic.
            var first = c.State.Strategy == StrategyKind.Rolling ? fresh with { Replicas = Math.Max(fresh.Replicas, 1), Routed = 0 } : fresh;
            if (first != fresh)
            {
                Replace(c, fresh, first);
                fresh = first;
            }

            var ready = observed.Of(fresh.Key).Ready;
            if (ready < fresh.Replicas)
            {
                c.Waiting(string.Create(CultureInfo.InvariantCulture, $"starting {fresh.Version}: {ready}/{fresh.Replicas} instances ready before its preTraffic jobs"));
                return false;
            }
        }

        switch (AwaitJobs(c, service, observed, JobHook.PreTraffic, out var failure))
        {
            case JobsOutcome.Running:
                return false;
            case JobsOutcome.Failed:
                Stop(c, service, RolloutPhase.Aborted, $"{failure}; {fresh.Version} never got traffic");
                return false;
            default:
                if (c.State.SetOf(fresh.Key) is { } passed && passed.Routed < passed.Replicas && c.State.Strategy == StrategyKind.Rolling)
                {
                    Replace(c, passed, passed with { Routed = passed.Replicas });
                }

                return true;
        }
    }

    /// <summary>After a rollout ended: its onAbort or onRollback jobs, recorded as they end.</summary>
    private static void AfterEnd(Changes c, ServiceSpec service, Observation observed)
    {
        if (c.State.Job is { Hook: JobHook.OnAbort or JobHook.OnRollback } job)
        {
            AwaitJobs(c, service, observed, job.Hook, out _);
        }
    }

    /// <summary>The hook a rollout that just ended in <paramref name="phase"/> runs its jobs at, if any.</summary>
    private static void RequestEndJobs(Changes c, ServiceSpec service, RolloutPhase phase)
    {
        var hook = phase == RolloutPhase.RolledBack || (phase == RolloutPhase.Succeeded && c.State.Kind == RolloutKind.Rollback) ? JobHook.OnRollback
            : phase is RolloutPhase.Aborted or RolloutPhase.Failed ? JobHook.OnAbort
            : (JobHook?)null;
        if (hook is { } h && service.JobsAt(h).Any() && !c.State.Ran(h))
        {
            var names = service.JobsAt(h).Select(j => j.Name).ToList();
            c.State = c.State with { Job = new JobRequest(string.Create(CultureInfo.InvariantCulture, $"{c.State.Id}/{c.State.Attempt}/{h.ManifestName()}"), h, [.. names]) };
            c.Event(RolloutEventType.JobStarted, $"running the {h.ManifestName()} job{(names.Count == 1 ? string.Empty : "s")} {string.Join(", ", names)}");
        }
        else
        {
            c.State = c.State with { Job = null };
        }
    }
}
