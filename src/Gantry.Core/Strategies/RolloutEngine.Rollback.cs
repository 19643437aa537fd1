using System.Globalization;
using Gantry.Core.Analysis;
using Gantry.Core.Manifest;
using Gantry.Core.Manifest.Values;
using Gantry.Core.Rollouts;

namespace Gantry.Core.Strategies;

public static partial class RolloutEngine
{
    /// <summary>
    /// A gradual rollback: once the earlier release is ready at full size, traffic moves back to it step by step
    /// (<see cref="GradualRollback.Steps"/>: the share left on the release rolled back), each step verified in the
    /// router and held for <see cref="GradualRollback.Every"/>; the last step (0%) switches all traffic back.
    /// </summary>
    private static void NextGradual(Changes c, ServiceSpec service, GradualRollback plan, Observation observed)
    {
        if (!AllReady(c, observed, out var target, out _))
        {
            return;
        }

        var step = c.State.Step;
        var label = string.Create(CultureInfo.InvariantCulture, $"rollback step {Math.Min(step + 1, plan.Steps.Count)}/{plan.Steps.Count}");
        var left = step < plan.Steps.Count ? plan.Steps[step] : 0;
        if (left == 0)
        {
            SwitchTo(c, target, c.Drain);
            Succeed(c, service, string.Create(CultureInfo.InvariantCulture, $"rolled back to {target.Version} in {plan.Steps.Count} steps: all traffic on it"));
            return;
        }

        if (c.State.StepUntil is null)
        {
            var weight = 100 - left;
            if (c.State.Traffic.CanaryWeight != weight)
            {
                c.State = c.State with { Traffic = c.State.Traffic with { CanaryWeight = weight }, Phase = RolloutPhase.Progressing, Message = $"{label}: {weight}% back on {target.Version}, waiting for the router to confirm" };
                c.Event(RolloutEventType.TrafficShifted, string.Create(CultureInfo.InvariantCulture, $"{label}: {weight}% back on {target.Version}, {left}% left on {c.State.PreviousVersion}"));
            }

            if (!Verified(c, observed, label))
            {
                return;
            }

            c.State = c.State with
            {
                Phase = RolloutPhase.Paused,
                StepUntil = observed.Now + plan.Every,
                Message = string.Create(CultureInfo.InvariantCulture, $"{label}: {left}% left on {c.State.PreviousVersion}; the next step in {DurationSyntax.Format(plan.Every)}"),
            };
            c.Event(RolloutEventType.Paused, c.State.Message);
            return;
        }

        if (!plan.Analysis.IsEmpty && !StepAnalysisPassed(c, plan, observed, label))
        {
            return;
        }

        if (observed.Now < c.State.StepUntil)
        {
            return;
        }

        c.State = c.State with { Phase = RolloutPhase.Progressing, StepUntil = null, Step = step + 1 };
        c.Event(RolloutEventType.Resumed, $"{label} held {DurationSyntax.Format(plan.Every)}: the next step");
        NextGradual(c, service, plan, observed);
    }

    /// <summary>
    /// The analysis of a rollback step, on the earlier release at its new share: started with the hold, waited for past
    /// it. A failure (or no verdict) holds the rollback where it is for a person: resume runs it again, abort puts all
    /// traffic back on the release being rolled back. True once it passed.
    /// </summary>
    private static bool StepAnalysisPassed(Changes c, GradualRollback plan, Observation observed, string label)
    {
        var prefix = string.Create(CultureInfo.InvariantCulture, $"{c.State.Id}/{c.State.Attempt}/rollback/{c.State.Step}/");
        var templates = string.Join(", ", plan.Analysis);
        if (c.State.Analysis is not { } request || !request.Key.StartsWith(prefix, StringComparison.Ordinal))
        {
            c.State = c.State with { Analysis = new AnalysisRequest(prefix + c.State.Revision.ToString(CultureInfo.InvariantCulture), plan.Analysis, label) };
            c.Event(RolloutEventType.AnalysisStarted, $"{label}: analysis {templates} of {c.State.Release.Version} at its new share");
            return false;
        }

        if (request.Completed)
        {
            return true;
        }

        if (observed.Analysis is not { } status || status.Key != request.Key || !status.Phase.IsCompleted())
        {
            return false;
        }

        if (status.Phase == AnalysisPhase.Successful)
        {
            c.State = c.State with { Analysis = request with { Completed = true } };
            c.Event(RolloutEventType.AnalysisSucceeded, $"{label}: analysis {templates} passed: {status.Message}");
            return true;
        }

        var inconclusive = status.Phase == AnalysisPhase.Inconclusive;
        c.State = c.State with
        {
            Analysis = null,
            Phase = RolloutPhase.Paused,
            Waits = c.State.Waits.With(inconclusive ? WaitReason.InconclusiveAnalysis : WaitReason.FailedAnalysisHeld),
            Message = $"{label}: analysis {templates} {status.Phase.ToString().ToLowerInvariant()}: {status.Message}; holding the split: resume runs it again, abort puts all traffic back on {c.State.PreviousVersion}",
        };
        c.Event(inconclusive ? RolloutEventType.AnalysisInconclusive : RolloutEventType.AnalysisFailed, c.State.Message);
        return false;
    }
}
