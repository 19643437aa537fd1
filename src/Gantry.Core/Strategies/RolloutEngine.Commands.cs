using Gantry.Core.Manifest;
using Gantry.Core.Rollouts;

namespace Gantry.Core.Strategies;

/// <summary>A person's commands to a rollout: abort, pause, resume, promote, retry.</summary>
public static partial class RolloutEngine
{
    /// <summary>Applies a person's command; a command that makes no sense in the rollout's state is refused.</summary>
    public static CommandResult Apply(ServiceSpec service, RolloutState state, RolloutCommand command, DateTimeOffset now)
    {
        var c = new Changes(state, now, service.Drain);
        var by = command.By;
        var reason = command.Reason is { Length: > 0 } r ? $": {r}" : string.Empty;
        if (command.Kind == CommandKind.Retry)
        {
            if (state.Phase is not (RolloutPhase.Aborted or RolloutPhase.Failed))
            {
                return CommandResult.Refuse($"rollout {state.Id} is {state.Phase}: only an aborted or failed rollout can be retried");
            }

            if (state.AwaitsApproval)
            {
                return CommandResult.Refuse($"rollout {state.Id} never started (it was rejected, or aborted while waiting for approval): deploy the release again to ask for a new approval");
            }

            // A new attempt: the jobs of the one before (an onAbort still running) are no longer waited for.
            var again = state with { Attempt = state.Attempt + 1, FinishedAt = null, Waits = state.Waits.WithoutHolds(), Job = null };
            c.State = state.ChecklistGated
                ? again with { Waits = again.Waits.With(WaitReason.AwaitingChecklist), Phase = RolloutPhase.Pending, Message = $"waiting for the pre-deployment checklist of {state.Environment}", Analysis = null, Background = null, StepUntil = null }
                : Begin(service, again, now);
            c.State = c.State with { Message = $"retried by {by}: attempt {c.State.Attempt}, {c.State.Message}" };
            c.Event(RolloutEventType.Retried, c.State.Message);
            return new CommandResult(c.Decide(), null);
        }

        if (state.Phase.IsTerminal())
        {
            return CommandResult.Refuse($"rollout {state.Id} has already ended ({state.Phase})");
        }

        if (state.HeldByFreeze && command.Kind != CommandKind.Abort)
        {
            return CommandResult.Refuse($"rollout {state.Id} is held by a freeze: it goes on when the freeze ends; it can only be aborted");
        }

        if (state.Phase == RolloutPhase.AwaitingApproval && command.Kind != CommandKind.Abort)
        {
            return CommandResult.Refuse($"rollout {state.Id} has not started: it waits for approval (gantry approve {state.Id}); it can only be aborted");
        }

        if (state.Phase == RolloutPhase.Pending && command.Kind != CommandKind.Abort)
        {
            return CommandResult.Refuse($"rollout {state.Id} has not started: it waits for its pre-deployment checklist (gantry checklist {state.Id}); it can only be aborted");
        }

        switch (command.Kind)
        {
            case CommandKind.Abort when state.InWatch:
                c.Event(RolloutEventType.WatchFailed, $"the watch after promotion was ended by {by}{reason}");
                Stop(c, service, RolloutPhase.RolledBack, $"rolled back by {by} during the watch after promotion{reason}: all traffic back on {state.PreviousVersion}");
                break;
            case CommandKind.Abort:
                Stop(c, service, RolloutPhase.Aborted, $"aborted by {by}{reason}");
                break;
            case CommandKind.Pause:
                if (state.IsHeld)
                {
                    return CommandResult.Refuse($"rollout {state.Id} is already paused");
                }

                c.State = state with { Waits = state.Waits.With(WaitReason.PausedByPerson), Phase = RolloutPhase.Paused, Message = $"paused by {by}{reason}" };
                c.Event(RolloutEventType.Paused, c.State.Message);
                break;
            case CommandKind.Resume:
                if (state.IsHeld)
                {
                    c.State = state with { Waits = state.Waits.WithoutHolds(), Phase = RolloutPhase.Progressing, Message = $"resumed by {by}", LastProgressAt = now };
                    c.Event(RolloutEventType.Resumed, c.State.Message);
                }
                else if (state.Phase == RolloutPhase.Paused)
                {
                    return Promote(service, c, by, full: false);
                }
                else
                {
                    return CommandResult.Refuse($"rollout {state.Id} is not paused ({state.Phase})");
                }

                break;
            default:
                return Promote(service, c, by, command.Kind == CommandKind.PromoteFull);
        }

        return new CommandResult(c.Decide(), null);
    }

    private static CommandResult Promote(ServiceSpec service, Changes c, string by, bool full)
    {
        var state = c.State with { Waits = c.State.Waits.WithoutHolds().Without(WaitReason.AwaitingPromotion) };
        c.State = state;
        if (state.InWatch)
        {
            c.Event(RolloutEventType.Promoted, $"accepted by {by}: the watch after promotion is ended early");
            EndWatch(c, service, $"{state.Release.Version} accepted by {by} during its watch");
            return new CommandResult(c.Decide(), null);
        }

        switch (state.Strategy)
        {
            case StrategyKind.Canary:
                var steps = ((CanaryStrategy)service.Strategy).Steps.Count;
                if (state.Step >= steps)
                {
                    return CommandResult.Refuse($"rollout {state.Id} is already past its last step");
                }

                var to = full ? steps : state.Step + 1;
                var promoted = full ? $"promoted fully by {by}: the remaining steps are skipped" : $"promoted by {by}: step {state.Step + 1} skipped";
                c.State = state with { Step = to, Phase = RolloutPhase.Progressing, Analysis = null, StepUntil = null, LastProgressAt = c.Now, Message = promoted };
                c.Event(RolloutEventType.Promoted, promoted);
                break;
            case StrategyKind.BlueGreen:
                if (state.Stage >= BlueGreenStage.Switching)
                {
                    if (state.Stage == BlueGreenStage.PostPromotionAnalysis)
                    {
                        c.State = state with { Analysis = null };
                        FinishBlueGreen(c, service, $"promoted by {by}: post-promotion analysis skipped");
                        break;
                    }

                    return CommandResult.Refuse($"rollout {state.Id} is already switching traffic");
                }

                var switching = $"promoted by {by}: switching traffic to {state.Release.Version} once all its instances are ready";
                c.State = state with { Stage = BlueGreenStage.Switching, Phase = RolloutPhase.Promoting, Analysis = null, StepUntil = null, LastProgressAt = c.Now, Message = switching };
                c.Event(RolloutEventType.Promoted, switching);
                break;
            default:
                return CommandResult.Refuse(state.Strategy == StrategyKind.Rolling
                    ? $"rollout {state.Id} is a rolling update: it has no steps to promote (pause, resume or abort it)"
                    : $"rollout {state.Id} has no steps to promote");
        }

        return new CommandResult(c.Decide(), null);
    }
}
