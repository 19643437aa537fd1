using System.Globalization;
using Gantry.Core.Analysis;
using Gantry.Core.Manifest;
using Gantry.Core.Manifest.Values;
using Gantry.Core.Rollouts;

namespace Gantry.Core.Strategies;

public static partial class RolloutEngine
{
    /// <summary>
    /// Canary: the step list, in order. The stable set keeps its full size all along, so an abort moves all
    /// traffic back at once; the canary set grows with the weight (at least one instance) and takes traffic
    /// only once enough of it is ready. After the last step the canary grows to full size and takes over.
    /// </summary>
    private static void NextCanary(Changes c, ServiceSpec service, Observation observed)
    {
        var strategy = (CanaryStrategy)service.Strategy;
        if (!Background(c, service, strategy, observed))
        {
            return;
        }

        var steps = strategy.Steps;
        for (var guard = 0; guard <= steps.Count + 1; guard++)
        {
            StartBackground(c, strategy);
            var step = c.State.Step;
            if (step >= steps.Count)
            {
                PromoteCanary(c, service, observed);
                return;
            }

            var label = string.Create(CultureInfo.InvariantCulture, $"step {step + 1}/{steps.Count}");
            var canary = c.State.SetOf(SetRole.Canary)!;
            var ready = observed.ReadyOf(canary);
            switch (steps[step])
            {
                case SetWeightStep { Weight: var weight }:
                    var need = Math.Max(1, (int)Math.Ceiling(service.Replicas * weight / 100.0));
                    if (canary.Replicas < need)
                    {
                        Replace(c, canary, canary with { Replicas = need, Routed = need });
                    }

                    var baseline = strategy.Baseline == CanaryBaseline.Fresh && weight < 100 ? FreshBaseline(c, need) : null;
                    var baselineReady = baseline is null ? need : observed.ReadyOf(baseline);
                    if (weight > 0 && (ready < need || baselineReady < need))
                    {
                        c.Waiting(string.Create(CultureInfo.InvariantCulture, $"{label} setWeight {weight}: waiting for canary instances ({ready}/{need} ready)")
                            + (baseline is null ? string.Empty : string.Create(CultureInfo.InvariantCulture, $" and baseline instances ({baselineReady}/{need} ready)")));
                        return;
                    }

                    // A fresh baseline takes as much traffic as the canary (what is left when the canary has more than half).
                    var baselineWeight = baseline is null ? 0 : Math.Min(weight, 100 - weight);
                    if (c.State.Traffic.CanaryWeight != weight || c.State.Traffic.BaselineWeight != baselineWeight)
                    {
                        c.State = c.State with { Traffic = c.State.Traffic with { CanaryWeight = weight, BaselineWeight = baselineWeight }, Phase = RolloutPhase.Progressing, Message = $"{label}: canary {canary.Version} at {weight}%, waiting for the router to confirm" };
                        c.Event(RolloutEventType.TrafficShifted, baseline is null
                            ? string.Create(CultureInfo.InvariantCulture, $"{label}: canary {canary.Version} {weight}%, stable {c.State.PreviousVersion} {100 - weight}%")
                            : string.Create(CultureInfo.InvariantCulture, $"{label}: canary {canary.Version} {weight}%, baseline {baseline.Key} {baselineWeight}%, stable {c.State.PreviousVersion} {100 - weight - baselineWeight}%"));
                    }

                    if (!Verified(c, observed, $"{label} setWeight {weight}"))
                    {
                        return;
                    }

                    c.State = c.State with { Step = step + 1, Phase = RolloutPhase.Progressing, Message = $"{label}: canary {canary.Version} at {weight}%" };
                    break;
                case PauseStep { Duration: null }:
                    if (c.State.Phase != RolloutPhase.Paused)
                    {
                        c.State = c.State with { Phase = RolloutPhase.Paused, Waits = c.State.Waits.With(WaitReason.AwaitingPromotion), Message = $"{label}: paused until promoted (gantry promote {c.State.Service})" };
                        c.Event(RolloutEventType.Paused, c.State.Message);
                    }

                    return;
                case PauseStep { Duration: { } duration }:
                    if (c.State.StepUntil is null)
                    {
                        c.State = c.State with { Phase = RolloutPhase.Paused, StepUntil = observed.Now + duration, Message = $"{label}: pause {DurationSyntax.Format(duration)}" };
                        c.Event(RolloutEventType.Paused, c.State.Message);
                        return;
                    }

                    if (observed.Now < c.State.StepUntil)
                    {
                        return;
                    }

                    c.State = c.State with { Phase = RolloutPhase.Progressing, StepUntil = null, Step = step + 1 };
                    c.Event(RolloutEventType.Resumed, $"{label}: pause of {DurationSyntax.Format(duration)} over");
                    break;
                case AnalysisStep { Analysis: var analysis }:
                    if (c.State.Phase == RolloutPhase.Paused)
                    {
                        // Inconclusive: a person decides (promote or abort).
                        return;
                    }

                    if (AwaitAnalysis(c, service, observed, analysis, label) != AnalysisPhase.Successful)
                    {
                        return;
                    }

                    c.State = c.State with { Step = step + 1 };
                    break;
                case SetHeaderRouteStep { Matches: var matches }:
                    if (!matches.IsEmpty && ready < 1)
                    {
                        c.Waiting($"{label} setHeaderRoute: waiting for a canary instance to be ready");
                        return;
                    }

                    if (c.State.Traffic.HeaderRoute != matches)
                    {
                        c.State = c.State with { Traffic = c.State.Traffic with { HeaderRoute = matches } };
                        c.Event(RolloutEventType.HeaderRouteSet, matches.IsEmpty ? $"{label}: header route removed" : $"{label}: requests matching {Show(matches)} go to canary {canary.Version}");
                    }

                    if (!Verified(c, observed, $"{label} setHeaderRoute"))
                    {
                        return;
                    }

                    c.State = c.State with { Step = step + 1 };
                    break;
                case SetMirrorStep mirror:
                    if (mirror.Percent > 0 && ready < 1)
                    {
                        c.Waiting($"{label} setMirror: waiting for a canary instance to be ready");
                        return;
                    }

                    if (c.State.Traffic.MirrorPercent != mirror.Percent || c.State.Traffic.MirrorMatch != mirror.Matches)
                    {
                        c.State = c.State with { Traffic = c.State.Traffic with { MirrorPercent = mirror.Percent, MirrorMatch = mirror.Matches } };
                        c.Event(RolloutEventType.MirrorSet, mirror.Percent == 0 ? $"{label}: mirror removed" : string.Create(CultureInfo.InvariantCulture, $"{label}: {mirror.Percent}% of requests copied to canary {canary.Version}"));
                    }

                    if (!Verified(c, observed, $"{label} setMirror"))
                    {
                        return;
                    }

                    c.State = c.State with { Step = step + 1 };
                    break;
            }
        }
    }

    /// <summary>
    /// The canary's background analysis: started at its starting step, it runs beside the steps until the
    /// rollout ends, and a failure aborts (or, with onFailure: hold, pauses) the rollout whatever step it is
    /// at. Inconclusive pauses for a person; resuming starts a new run. False when the rollout stopped or paused.
    /// </summary>
    private static bool Background(Changes c, ServiceSpec service, CanaryStrategy canary, Observation observed)
    {
        if (canary.Analysis is not { } analysis || c.State.Step < canary.AnalysisStartingStep)
        {
            return true;
        }

        var templates = string.Join(", ", analysis.Templates);
        if (c.State.Background is not { } request)
        {
            StartBackground(c, canary);
            return true;
        }

        if (request.Completed || observed.Background is not { } status || status.Key != request.Key || !status.Phase.IsCompleted())
        {
            return true;
        }

        switch (status.Phase)
        {
            case AnalysisPhase.Successful:
                c.State = c.State with { Background = request with { Completed = true } };
                c.Event(RolloutEventType.AnalysisSucceeded, $"background analysis {templates} passed: {status.Message}");
                return true;
            case AnalysisPhase.Inconclusive:
                HoldForPerson(c, RolloutEventType.AnalysisInconclusive, $"background analysis {templates} inconclusive: {status.Message}; resume to go on (a new background run starts) or abort");
                return false;
            default:
                var failed = $"background analysis {templates} {status.Phase.ToString().ToLowerInvariant()}: {status.Message}";
                if (analysis.OnFailure == AnalysisFailureAction.Hold)
                {
                    HoldForPerson(c, RolloutEventType.AnalysisFailed, $"{failed}; holding the current split (onFailure: hold): resume to go on or abort");
                    return false;
                }

                Stop(c, service, RolloutPhase.Aborted, failed);
                return false;
        }
    }

    /// <summary>Starts the background analysis once the rollout is at or past its starting step.</summary>
    private static void StartBackground(Changes c, CanaryStrategy canary)
    {
        if (canary.Analysis is { } analysis && c.State.Background is null && c.State.Step >= canary.AnalysisStartingStep)
        {
            var key = string.Create(CultureInfo.InvariantCulture, $"{c.State.Id}/{c.State.Attempt}/background/{c.State.Revision}");
            c.State = c.State with { Background = new AnalysisRequest(key, analysis.Templates, AnalysisRequest.BackgroundPurpose) };
            c.Event(RolloutEventType.AnalysisStarted, string.Create(CultureInfo.InvariantCulture, $"background analysis {string.Join(", ", analysis.Templates)} running from step {c.State.Step + 1} until the rollout ends"));
        }
    }

    /// <summary>
    /// Set, then verify: a traffic step is done only once the router reports its split in force, so the steps
    /// after it (a pause, an analysis) measure the split they were written for.
    /// </summary>
    private static bool Verified(Changes c, Observation observed, string step)
    {
        if (observed.InForce(c.State.Traffic))
        {
            return true;
        }

        c.Waiting($"{step}: waiting for the router to confirm the split is in force");
        return false;
    }

    /// <summary>Pauses until a person resumes or aborts; the split stays as it is.</summary>
    private static void HoldForPerson(Changes c, RolloutEventType type, string message)
    {
        var reason = type == RolloutEventType.AnalysisInconclusive ? WaitReason.InconclusiveAnalysis : WaitReason.FailedAnalysisHeld;
        c.State = c.State with { Waits = c.State.Waits.With(reason), Phase = RolloutPhase.Paused, Message = message, Background = null };
        c.Event(type, message);
    }

    /// <summary>After the last step: the canary grows to full size, and when all of it is ready takes all traffic.</summary>
    private static void PromoteCanary(Changes c, ServiceSpec service, Observation observed)
    {
        var canary = c.State.SetOf(SetRole.Canary)!;
        var n = service.Replicas;
        if (canary.Replicas < n)
        {
            Replace(c, canary, canary with { Replicas = n, Routed = n });
            canary = c.State.SetOf(SetRole.Canary)!;
        }

        if (c.State.Phase != RolloutPhase.Promoting)
        {
            c.State = c.State with { Phase = RolloutPhase.Promoting };
            c.Event(RolloutEventType.Promoting, $"all steps done: scaling canary {canary.Version} to {n} before it takes all traffic");
        }

        var ready = observed.ReadyOf(canary);
        if (ready < n)
        {
            c.Waiting(string.Create(CultureInfo.InvariantCulture, $"promoting: {ready}/{n} instances of {canary.Version} ready"));
            return;
        }

        SwitchTo(c, canary, c.Drain);
        Promoted(c, service, $"{canary.Version} promoted: it is the stable release");
    }

    /// <summary>
    /// The fresh baseline for a canary of <paramref name="size"/> instances: a set of the stable release, started
    /// (or grown) to the same size, so the canary is compared with instances as new and as loaded as itself.
    /// </summary>
    private static InstanceSet? FreshBaseline(Changes c, int size)
    {
        if (c.State.SetOf(SetRole.Stable) is not { } stable)
        {
            return null;
        }

        var name = InstanceSet.BaselineName(stable.Version);
        var baseline = c.State.SetOf(name);
        if (baseline is not { Role: SetRole.Baseline })
        {
            // A baseline retired by an abort and still draining is taken back rather than started twice.
            var fresh = new InstanceSet(stable.Release, SetRole.Baseline, size, size, Name: name);
            c.State = c.State with { Sets = [.. c.State.Sets.Where(s => s.Key != name), fresh] };
            baseline = fresh;
            c.Event(RolloutEventType.BaselineStarted, string.Create(CultureInfo.InvariantCulture, $"starting a fresh baseline of {stable.Version}: {size} instance{(size == 1 ? string.Empty : "s")}, like the canary"));
        }
        else if (baseline.Replicas < size)
        {
            var grown = baseline with { Replicas = size, Routed = size };
            Replace(c, baseline, grown);
            baseline = grown;
        }

        return baseline;
    }

    private static void Replace(Changes c, InstanceSet old, InstanceSet replacement) =>
        c.State = c.State with { Sets = [.. c.State.Sets.Select(s => s == old ? replacement : s)] };

    private static string Show(ValueList<RouteMatch> matches) =>
        string.Join(" and ", matches.Select(m => $"{m.Source.ToString().ToLowerInvariant()} {m.Name} {m.Kind.ToString().ToLowerInvariant()} '{m.Value}'"));
}
