using Gantry.Core.Analysis;
using Gantry.Core.Rollouts;
using Gantry.Core.Strategies;

namespace Gantry.Core.Tests.Strategies;

/// <summary>Where a rollout waits is a set of named reasons, each set where the wait starts and cleared where it ends.</summary>
public sealed class WaitReasonTests
{
    private const string Canary = """
        canary:
          steps:
            - setWeight: 20
            - pause: {}
            - setWeight: 50
            - pause: { duration: 1h }
          analysis: { templates: [slo] }
        """;

    [Fact(Timeout = 10_000)]
    public void Waits_ThroughACanary_NameEachReasonAndClearIt()
    {
        var world = RolloutEngineTests.Stable(Canary);
        world.Deploy("v2");
        world.Settle();
        world.State.Waits.Should().Equal(WaitReason.AwaitingPromotion);

        world.Command(CommandKind.Pause, "looking").Refusal.Should().BeNull();
        world.State.Waits.Should().Equal(WaitReason.PausedByPerson, WaitReason.AwaitingPromotion);
        world.State.IsHeld.Should().BeTrue();
        world.Command(CommandKind.Resume).Refusal.Should().BeNull();
        world.State.Waits.Should().Equal(WaitReason.AwaitingPromotion);

        world.Command(CommandKind.Promote).Refusal.Should().BeNull();
        world.State.Waits.Should().BeEmpty();
        world.Settle();
        world.State.Step.Should().Be(3, "at the hour's pause, which waits for nobody");
        world.State.Waits.Should().BeEmpty();

        world.FreezeHold = "the year-end freeze";
        world.Settle();
        world.State.Waits.Should().Equal(WaitReason.HeldByFreeze);
        world.FreezeHold = null;
        world.Settle();
        world.State.Waits.Should().NotContain(WaitReason.HeldByFreeze);

        world.Background(AnalysisPhase.Inconclusive);
        world.Settle();
        world.State.Waits.Should().Equal(WaitReason.InconclusiveAnalysis);
        world.State.Phase.Should().Be(RolloutPhase.Paused);
        world.Command(CommandKind.Abort).Refusal.Should().BeNull();
        world.State.Waits.Should().BeEmpty("an ended rollout waits for nothing");
    }

    [Fact(Timeout = 10_000)]
    public void Waits_ChecklistAndApproval_GateTheStartAndARetryWaitsForTheChecklistAgain()
    {
        var world = RolloutEngineTests.Stable(Canary);
        world.Deploy("v2", checklist: true, approval: true);
        world.State.Waits.Should().Equal(WaitReason.AwaitingChecklist, WaitReason.AwaitingApproval);
        world.State.ChecklistGated.Should().BeTrue();

        world.ChecklistPassed = true;
        world.Approval = new Core.Approvals.ApprovalStatus(Core.Approvals.ApprovalState.Approved, 2, 2, [], "approved by 2 of 2");
        world.Settle();
        world.State.Waits.Should().Equal([WaitReason.AwaitingPromotion], "started; now at the pause step");

        world.Command(CommandKind.Abort).Refusal.Should().BeNull();
        world.ChecklistPassed = false;
        world.Command(CommandKind.Retry).Refusal.Should().BeNull();
        world.State.Waits.Should().Equal(WaitReason.AwaitingChecklist);
        world.State.Phase.Should().Be(RolloutPhase.Pending);
    }
}
