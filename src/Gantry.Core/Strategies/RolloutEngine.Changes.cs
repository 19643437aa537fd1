using System.Globalization;
using Gantry.Core.Analysis;
using Gantry.Core.Manifest;
using Gantry.Core.Rollouts;

namespace Gantry.Core.Strategies;

/// <summary>What every strategy shares: waiting for an analysis run, and the changes a decision collects.</summary>
public static partial class RolloutEngine
{
    /// <summary>Waits for an analysis run; returns its phase once completed (the caller moves on), or null while it runs.</summary>
    private static AnalysisPhase? AwaitAnalysis(Changes c, ServiceSpec service, Observation observed, AnalysisRef analysis, string purpose)
    {
        var templates = analysis.Templates;
        var key = string.Create(CultureInfo.InvariantCulture, $"{c.State.Id}/{c.State.Attempt}/{c.State.Step}");
        if (c.State.Analysis?.Key != key)
        {
            c.State = c.State with { Analysis = new AnalysisRequest(key, templates, purpose), Phase = RolloutPhase.Analyzing, Message = $"analysis {string.Join(", ", templates)} running ({purpose})" };
            c.Event(RolloutEventType.AnalysisStarted, c.State.Message);
            return null;
        }

        if (observed.Analysis is not { } status || status.Key != key || !status.Phase.IsCompleted())
        {
            return null;
        }

        switch (status.Phase)
        {
            case AnalysisPhase.Successful:
                c.Event(RolloutEventType.AnalysisSucceeded, $"analysis {string.Join(", ", templates)} passed ({purpose}): {status.Message}");
                c.State = c.State with { Analysis = null, Phase = RolloutPhase.Progressing };
                break;
            case AnalysisPhase.Inconclusive:
                c.State = c.State with { Phase = RolloutPhase.Paused, Waits = c.State.Waits.With(WaitReason.AwaitingPromotion), Message = $"analysis inconclusive ({purpose}): {status.Message}; promote to go on or abort" };
                c.Event(RolloutEventType.AnalysisInconclusive, c.State.Message);
                break;
            default:
                var failed = $"analysis {string.Join(", ", templates)} {status.Phase.ToString().ToLowerInvariant()} ({purpose}): {status.Message}";
                if (analysis.OnFailure == AnalysisFailureAction.Hold)
                {
                    // The release cannot go back: keep the split as it is and let a person decide.
                    c.State = c.State with { Phase = RolloutPhase.Paused, Waits = c.State.Waits.With(WaitReason.AwaitingPromotion), Message = $"{failed}; holding the current split (onFailure: hold): promote to go on or abort" };
                    c.Event(RolloutEventType.AnalysisFailed, c.State.Message);
                    break;
                }

                Stop(c, service, RolloutPhase.Aborted, failed);
                break;
        }

        return status.Phase;
    }

    /// <summary>A rollout's state being changed, and the events told about it.</summary>
    private sealed class Changes(RolloutState start, DateTimeOffset now, TimeSpan drain)
    {
        /// <summary>How long a set taken out of traffic keeps running (the service's drain).</summary>
        public TimeSpan Drain { get; } = drain;

        private readonly List<RolloutEvent> events = [];
        private readonly RolloutState original = start;

        public RolloutState State { get; set; } = start;

        public DateTimeOffset Now { get; } = now;

        /// <summary>All traffic was switched to another set in this decision (the router has not been seen routing it yet).</summary>
        public bool Switched { get; set; }

        public void Event(RolloutEventType type, string message) => events.Add(new RolloutEvent(type, message));

        /// <summary>Records what the rollout waits for, without an event (it would repeat every observation).</summary>
        public void Waiting(string message)
        {
            if (State.Message != message)
            {
                State = State with { Message = message };
            }
        }

        public Decision Decide()
        {
            var changed = State != original || events.Count > 0;
            var next = changed ? State with { UpdatedAt = Now, Revision = original.Revision + 1 } : original;
            return new Decision(next, [.. events]);
        }
    }
}
