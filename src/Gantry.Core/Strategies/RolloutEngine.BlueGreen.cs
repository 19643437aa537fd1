using System.Globalization;
using Gantry.Core.Analysis;
using Gantry.Core.Manifest;
using Gantry.Core.Rollouts;

namespace Gantry.Core.Strategies;

public static partial class RolloutEngine
{
    /// <summary>
    /// Blue-green: the new set starts at full size beside the active one and is served on the preview
    /// listener; optional pre-promotion analysis; promotion (automatic or by a person) switches all traffic
    /// at once once every new instance is ready; optional post-promotion analysis switches back on failure;
    /// the old set is kept for scaleDownDelay, so a rollback meanwhile is instant.
    /// </summary>
    private static void NextBlueGreen(Changes c, ServiceSpec service, Observation observed)
    {
        var spec = (BlueGreenStrategy)service.Strategy;
        var candidate = c.State.SetOf(c.State.NewKey)!;
        var n = service.Replicas;
        var ready = observed.ReadyOf(candidate);
        for (var guard = 0; guard < 6; guard++)
        {
            switch (c.State.Stage ?? BlueGreenStage.Preview)
            {
                case BlueGreenStage.Preview:
                    if (ready < n)
                    {
                        c.Waiting(string.Create(CultureInfo.InvariantCulture, $"starting {candidate.Version}: {ready}/{n} instances ready"));
                        return;
                    }

                    c.State = c.State with { Stage = BlueGreenStage.PrePromotionAnalysis };
                    c.Event(RolloutEventType.PreviewReady, spec.PreviewListen is { } preview
                        ? $"{candidate.Version} ready ({n}/{n}), served on the preview listener {preview}"
                        : $"{candidate.Version} ready ({n}/{n})");
                    break;
                case BlueGreenStage.PrePromotionAnalysis:
                    if (spec.PrePromotionAnalysis is { } pre)
                    {
                        if (c.State.Phase == RolloutPhase.Paused || AwaitAnalysis(c, service, observed, pre, "pre-promotion") != AnalysisPhase.Successful)
                        {
                            return;
                        }
                    }

                    c.State = c.State with { Stage = BlueGreenStage.AwaitingPromotion };
                    break;
                case BlueGreenStage.AwaitingPromotion:
                    if (!spec.AutoPromotion)
                    {
                        if (c.State.Phase != RolloutPhase.Paused)
                        {
                            c.State = c.State with { Phase = RolloutPhase.Paused, Waits = c.State.Waits.With(WaitReason.AwaitingPromotion), Message = $"{candidate.Version} is ready on preview: waiting for promotion (gantry promote {c.State.Service})" };
                            c.Event(RolloutEventType.Paused, c.State.Message);
                        }

                        return;
                    }

                    if (spec.AutoPromotionSeconds > 0)
                    {
                        if (c.State.StepUntil is null)
                        {
                            c.State = c.State with { StepUntil = observed.Now.AddSeconds(spec.AutoPromotionSeconds), Message = string.Create(CultureInfo.InvariantCulture, $"{candidate.Version} is ready: promoting automatically in {spec.AutoPromotionSeconds} s") };
                            return;
                        }

                        if (observed.Now < c.State.StepUntil)
                        {
                            return;
                        }
                    }

                    c.State = c.State with { Stage = BlueGreenStage.Switching, StepUntil = null, Phase = RolloutPhase.Promoting };
                    break;
                case BlueGreenStage.Switching:
                    // Health-gate, swap, drain: only a fully ready set takes the traffic.
                    if (ready < n)
                    {
                        c.State = c.State with { Phase = RolloutPhase.Promoting };
                        c.Waiting(string.Create(CultureInfo.InvariantCulture, $"switching: waiting for {candidate.Version} ({ready}/{n} ready)"));
                        return;
                    }

                    SwitchTo(c, candidate, spec.PostPromotionAnalysis is null ? spec.ScaleDownDelay : null);
                    if (spec.PostPromotionAnalysis is null)
                    {
                        FinishBlueGreen(c, service, $"{candidate.Version} is active");
                        return;
                    }

                    c.State = c.State with { Stage = BlueGreenStage.PostPromotionAnalysis };
                    break;
                default:
                    if (c.State.Phase == RolloutPhase.Paused || AwaitAnalysis(c, service, observed, spec.PostPromotionAnalysis!, "post-promotion") != AnalysisPhase.Successful)
                    {
                        return;
                    }

                    FinishBlueGreen(c, service, $"{candidate.Version} is active; post-promotion analysis passed");
                    return;
            }
        }
    }

    /// <summary>Success: the previous active set stays for scaleDownDelay (an instant rollback target), then stops.</summary>
    private static void FinishBlueGreen(Changes c, ServiceSpec service, string message)
    {
        var delay = ((BlueGreenStrategy)service.Strategy).ScaleDownDelay;
        c.State = c.State with
        {
            Sets = [.. c.State.Sets.Select(s => s.Role == SetRole.Retired && s.RemoveAt is null ? s with { RemoveAt = c.Now + delay } : s)],
        };
        Promoted(c, service, message);
    }
}
