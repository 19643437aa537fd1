using FluentAssertions;
using Gantry.Core.Approvals;
using Gantry.Core.Manifest;

namespace Gantry.Core.Tests.Approvals;

/// <summary>The approval rule: how many, from which groups, never oneself, not older than the expiry.</summary>
public sealed class ApprovalRuleTests
{
    private static readonly DateTimeOffset Now = new(2026, 3, 3, 12, 0, 0, TimeSpan.Zero);

    private static readonly ApprovalPolicy TwoFromSreOrLeads = new(2, ["sre", "leads"], true, TimeSpan.FromHours(4));

    private static ApprovalRecord Approve(string by, string group, TimeSpan ago) => new("r1", by, [group], ApprovalDecision.Approved, null, Now - ago);

    [Fact(Timeout = 5_000)]
    public void Evaluate_FewerApprovalsThanRequired_Waits()
    {
        var status = ApprovalRule.Evaluate(TwoFromSreOrLeads, "alice", [Approve("bob", "sre", TimeSpan.FromMinutes(5))], Now);
        status.State.Should().Be(ApprovalState.Waiting);
        status.Counted.Should().Be(1);
        status.Message.Should().Be("waiting for approval: 1 of 2 from a member of sre or leads, not alice");
    }

    [Fact(Timeout = 5_000)]
    public void Evaluate_EnoughDistinctApprovers_Approved()
    {
        var status = ApprovalRule.Evaluate(TwoFromSreOrLeads, "alice", [Approve("bob", "sre", TimeSpan.FromMinutes(5)), Approve("carol", "leads", TimeSpan.FromMinutes(1))], Now);
        status.State.Should().Be(ApprovalState.Approved);
        status.Valid.Select(a => a.By).Should().Equal("bob", "carol");
        status.Message.Should().Be("approved: approved by bob (sre) at 2026-03-03 11:55:00Z; approved by carol (leads) at 2026-03-03 11:59:00Z");
    }

    [Fact(Timeout = 5_000)]
    public void Evaluate_SamePersonTwice_CountsOnce()
    {
        ApprovalRule.Evaluate(TwoFromSreOrLeads, "alice", [Approve("bob", "sre", TimeSpan.FromMinutes(5)), Approve("bob", "sre", TimeSpan.FromMinutes(1))], Now)
            .Counted.Should().Be(1);
    }

    [Fact(Timeout = 5_000)]
    public void Evaluate_ApprovalFromAnotherGroup_DoesNotCount()
    {
        var status = ApprovalRule.Evaluate(TwoFromSreOrLeads, "alice", [Approve("bob", "sre", TimeSpan.FromMinutes(5)), Approve("dave", "qa", TimeSpan.FromMinutes(1))], Now);
        status.State.Should().Be(ApprovalState.Waiting);
        status.Counted.Should().Be(1);
    }

    [Fact(Timeout = 5_000)]
    public void Evaluate_SelfApproval_NeverCountsEvenIfRecorded()
    {
        var status = ApprovalRule.Evaluate(TwoFromSreOrLeads, "alice", [Approve("alice", "sre", TimeSpan.FromMinutes(5)), Approve("bob", "sre", TimeSpan.FromMinutes(1))], Now);
        status.Counted.Should().Be(1);
        status.State.Should().Be(ApprovalState.Waiting);
    }

    [Fact(Timeout = 5_000)]
    public void Evaluate_SelfApprovalAllowedByPolicy_Counts()
    {
        var policy = TwoFromSreOrLeads with { NoSelfApproval = false, Required = 1 };
        ApprovalRule.Evaluate(policy, "alice", [Approve("alice", "sre", TimeSpan.FromMinutes(5))], Now).State.Should().Be(ApprovalState.Approved);
        ApprovalRule.Refusal(policy, "alice", "alice", ["sre"], [], Now).Should().BeNull();
    }

    [Fact(Timeout = 5_000)]
    public void Evaluate_ApprovalOlderThanExpiry_NoLongerCounts()
    {
        var status = ApprovalRule.Evaluate(TwoFromSreOrLeads, "alice", [Approve("bob", "sre", TimeSpan.FromHours(4)), Approve("carol", "leads", TimeSpan.FromHours(1))], Now);
        status.State.Should().Be(ApprovalState.Waiting);
        status.Counted.Should().Be(1);
        status.Message.Should().Be("waiting for approval: 1 of 2 from a member of sre or leads, not alice (1 older than 4h no longer count)");
        ApprovalRule.Evaluate(TwoFromSreOrLeads, "alice", [Approve("bob", "sre", TimeSpan.FromHours(4) - TimeSpan.FromSeconds(1)), Approve("carol", "leads", TimeSpan.FromHours(1))], Now)
            .State.Should().Be(ApprovalState.Approved, "just inside the expiry");
    }

    [Fact(Timeout = 5_000)]
    public void Evaluate_AnyRejection_Rejected()
    {
        var rejected = new ApprovalRecord("r1", "carol", ["leads"], ApprovalDecision.Rejected, "not during the sale", Now);
        var status = ApprovalRule.Evaluate(TwoFromSreOrLeads, "alice", [Approve("bob", "sre", TimeSpan.FromMinutes(5)), rejected], Now);
        status.State.Should().Be(ApprovalState.Rejected);
        status.Message.Should().Be("rejected by carol (leads) at 2026-03-03 12:00:00Z: not during the sale");
    }

    [Theory(Timeout = 5_000)]
    [InlineData("alice", "sre", "alice deployed this rollout and cannot approve it (self-approval is not allowed here)")]
    [InlineData("dave", "qa", "dave is not in a group that may approve here (sre, leads); dave is in qa")]
    [InlineData("erin", "", "erin is not in a group that may approve here (sre, leads)")]
    [InlineData("bob", "sre", "bob has already approved this rollout")]
    [InlineData("carol", "leads", null)]
    public void Refusal_WhoMayApprove_Explained(string by, string group, string? expected)
    {
        string[] groups = group.Length == 0 ? [] : [group];
        ApprovalRule.Refusal(TwoFromSreOrLeads, "alice", by, groups, [Approve("bob", "sre", TimeSpan.FromMinutes(5))], Now).Should().Be(expected);
    }

    [Fact(Timeout = 5_000)]
    public void Refusal_NoGroupsNamed_AnyApproverMay()
    {
        var policy = new ApprovalPolicy(1, [], true, null);
        ApprovalRule.Refusal(policy, "alice", "erin", [], [], Now).Should().BeNull();
        ApprovalRule.Evaluate(policy, "alice", [new ApprovalRecord("r1", "erin", [], ApprovalDecision.Approved, null, Now - TimeSpan.FromDays(30))], Now)
            .State.Should().Be(ApprovalState.Approved, "without an expiry an approval keeps counting");
    }
}
