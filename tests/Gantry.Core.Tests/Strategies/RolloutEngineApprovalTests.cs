using FluentAssertions;
using Gantry.Core.Approvals;
using Gantry.Core.Rollouts;
using Gantry.Core.Strategies;

namespace Gantry.Core.Tests.Strategies;

/// <summary>A rollout into an environment that requires approval waits for it, starts once approved, ends when rejected.</summary>
public sealed class RolloutEngineApprovalTests
{
    private static ApprovalStatus Waiting(int counted) => new(ApprovalState.Waiting, counted, 2, [], $"waiting for approval: {counted} of 2 from a member of sre, not alice");

    private static readonly ApprovalStatus Approved = new(ApprovalState.Approved, 2, 2, [], "approved: approved by bob (sre); approved by carol (sre)");

    [Fact(Timeout = 10_000)]
    public void Next_ApprovalRequired_WaitsInAwaitingApprovalUntilApproved()
    {
        var world = RolloutEngineTests.Stable(RolloutEngineTests.Canary);
        world.Deploy("v2", approval: true);
        world.Approval = Waiting(0);
        var waiting = world.Settle();
        waiting.Phase.Should().Be(RolloutPhase.AwaitingApproval);
        waiting.Message.Should().Be("waiting for approval: 0 of 2 from a member of sre, not alice");
        waiting.SetOf("v2").Should().BeNull("nothing of the release starts before it is approved");
        world.Advance(TimeSpan.FromHours(3)).Phase.Should().Be(RolloutPhase.AwaitingApproval, "waiting never hits the progress deadline");

        world.Command(CommandKind.Promote).Refusal.Should().Be("rollout r1 has not started: it waits for approval (gantry approve r1); it can only be aborted");
        world.Command(CommandKind.Resume).Refusal.Should().NotBeNull();

        world.Approval = Waiting(1);
        world.Settle().Message.Should().Be("waiting for approval: 1 of 2 from a member of sre, not alice");

        world.Approval = Approved;
        world.Settle();
        world.Events.Should().Contain(e => e.Type == RolloutEventType.Approved && e.Message == Approved.Message);
        world.State.AwaitsApproval.Should().BeFalse();
        world.State.Traffic.CanaryWeight.Should().Be(20);
    }

    [Fact(Timeout = 10_000)]
    public void Next_Rejected_AbortsWithoutStartingAndCannotBeRetried()
    {
        var world = RolloutEngineTests.Stable(RolloutEngineTests.Canary);
        world.Deploy("v2", approval: true);
        world.Approval = new ApprovalStatus(ApprovalState.Rejected, 0, 2, [], "rejected by bob (sre) at 2026-03-03 10:00:00Z: not during the sale");
        world.Settle();
        world.State.Phase.Should().Be(RolloutPhase.Aborted);
        world.State.Message.Should().Be("rejected by bob (sre) at 2026-03-03 10:00:00Z: not during the sale; the rollout does not start");
        world.State.SetOf("v2").Should().BeNull();
        world.Weights().Should().Equal(new Dictionary<string, int> { ["v1"] = 100 });
        world.Command(CommandKind.Retry).Refusal.Should().Be("rollout r1 never started (it was rejected, or aborted while waiting for approval): deploy the release again to ask for a new approval");
    }

    [Fact(Timeout = 10_000)]
    public void Next_ChecklistAndApproval_WaitsForTheChecklistFirstThenTheApproval()
    {
        var world = RolloutEngineTests.Stable(RolloutEngineTests.Canary);
        world.Deploy("v2", checklist: true, approval: true);
        world.Approval = Approved;
        world.Settle().Phase.Should().Be(RolloutPhase.Pending, "approved, but the checklist has not passed");

        world.Approval = Waiting(1);
        world.ChecklistPassed = true;
        world.Settle();
        world.State.Phase.Should().Be(RolloutPhase.AwaitingApproval);
        world.Events.Should().Contain(e => e.Type == RolloutEventType.AwaitingApproval && e.Message == "the pre-deployment checklist passed; waiting for approval: 1 of 2 from a member of sre, not alice");

        world.Approval = Approved;
        world.Settle();
        world.Events.Select(e => e.Type.ToString()).Should().ContainInOrder("AwaitingApproval", "Approved", "ChecklistPassed");
        world.State.Traffic.CanaryWeight.Should().Be(20);
    }

    [Fact(Timeout = 10_000)]
    public void Apply_AbortWhileAwaitingApproval_EndsTheRollout()
    {
        var world = RolloutEngineTests.Stable(RolloutEngineTests.Canary);
        world.Deploy("v2", approval: true);
        world.Approval = Waiting(0);
        world.Settle();
        world.Command(CommandKind.Abort).Refusal.Should().BeNull();
        world.State.Phase.Should().Be(RolloutPhase.Aborted);
    }

    [Fact(Timeout = 10_000)]
    public void Create_EmergencyDeploy_IsMarkedWithItsReason()
    {
        var world = RolloutEngineTests.Stable(RolloutEngineTests.Canary);
        var state = RolloutEngine.Create("r9", world.Service, "production", Release.Of("v2"), RolloutKind.Deploy, world.State.Sets, world.Now, "erin", emergency: true, emergencyReason: "INC-42 payments down");
        state.Emergency.Should().BeTrue();
        state.EmergencyReason.Should().Be("INC-42 payments down");
        state.CreatedBy.Should().Be("erin");
    }
}
