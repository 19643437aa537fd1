using Gantry.Core.Access;
using Gantry.Core.Admission;
using Gantry.Core.Manifest;
using Gantry.Core.Policies;
using Gantry.Core.Rollouts;
using Gantry.Core.Strategies;

namespace Gantry.Core.Tests.Admission;

/// <summary>Admission as a pure decision: the manifest's rules, the calendar, declared freezes, the history and the caller.</summary>
public sealed class AdmissionRulesTests
{
    // Monday 2 November 2026, 09:00 UTC: inside the Mon-Fri 08:00-18:00 UTC window.
    private static readonly DateTimeOffset Monday = new(2026, 11, 2, 9, 0, 0, TimeSpan.Zero);

    private static readonly GantryManifest Manifest = ManifestLoader.LoadText("""
        version: 1
        services:
          web: { process: { command: app, args: ["{port}"] }, listen: 127.0.0.1:8080, health: { readiness: { path: /ready } } }
        environments:
          staging: {}
          production:
            promotion: { from: staging, soak: 1h }
            approvals: { required: 2, from: [sre] }
            windows: [{ days: [Mon, Tue, Wed, Thu, Fri], from: "08:00", to: "18:00", zone: UTC }]
            freezes: [{ from: 2026-12-24, to: 2026-12-26, reason: holidays }]
            checklist: [{ name: qa, signoff: { role: qa } }]
        """).Manifest ?? throw new InvalidOperationException("the test manifest does not load");

    private static readonly EnvironmentSpec Production = Manifest.FindEnvironment("production")!;

    private static RolloutState InStaging(string version, RolloutPhase phase, DateTimeOffset finished) =>
        RolloutEngine.Create($"web-staging-{version}", Manifest.Services[0], "staging", Release.Of(version), RolloutKind.Deploy, [], finished.AddMinutes(-5)) with { Phase = phase, FinishedAt = finished };

    private static AdmissionRequest Ask(DateTimeOffset now, IReadOnlyList<RolloutState>? staging = null, IReadOnlyList<DeclaredFreeze>? declared = null) =>
        new("web", "production", "2.0", now, Production, declared ?? [], staging ?? [InStaging("2.0", RolloutPhase.Succeeded, now.AddHours(-2))]);

    [Fact(Timeout = 10_000)]
    public void Decide_AllRulesMet_AdmitsAndWaitsForChecklistAndApprovals()
    {
        AdmissionRules.Decide(Ask(Monday)).Should().Be(new AdmissionDecision(null, "admitted", AwaitsChecklist: true, AwaitsApproval: true));
    }

    [Fact(Timeout = 10_000)]
    public void Decide_OutsideTheWindow_RefusesWithTheNextOpening()
    {
        var decision = AdmissionRules.Decide(Ask(Monday.AddHours(10)));
        decision.Refusal.Should().Be(AdmissionRule.Window);
        decision.NextAllowedAt.Should().Be(new DateTimeOffset(2026, 11, 3, 8, 0, 0, TimeSpan.Zero));
        decision.OnlyForNow.Should().BeTrue("a queued deploy waits for the window");
    }

    [Fact(Timeout = 10_000)]
    public void Decide_ManifestFreeze_RefusesUntilItEnds()
    {
        var christmas = new DateTimeOffset(2026, 12, 24, 10, 0, 0, TimeSpan.Zero);
        var decision = AdmissionRules.Decide(Ask(christmas));
        decision.Refusal.Should().Be(AdmissionRule.Freeze);
        decision.Message.Should().Contain("holidays");
        decision.NextAllowedAt.Should().Be(new DateTimeOffset(2026, 12, 28, 8, 0, 0, TimeSpan.Zero), "the freeze ends on the 26th, a Saturday; the window opens on Monday");
    }

    [Fact(Timeout = 10_000)]
    public void Decide_DeclaredFreeze_RefusesWithWhoAndWhyBeforeTheManifestsRules()
    {
        var declared = new DeclaredFreeze(1, "production", "incident 42", "alice", Monday.AddHours(-1), Monday.AddHours(3), null, null);
        AdmissionRules.Decide(Ask(Monday, declared: [declared])).Should().Be(new AdmissionDecision(AdmissionRule.DeclaredFreeze,
            "deploys to production are frozen by alice since 2026-11-02 08:00 UTC (incident 42), until 2026-11-02 12:00 UTC", Monday.AddHours(3)));
        AdmissionRules.Decide(Ask(Monday.AddHours(4), declared: [declared])).Allowed.Should().BeTrue("the declared freeze is over");
    }

    [Fact(Timeout = 10_000)]
    public void Decide_NotSoakedYet_RefusesForNowAndAnEmergencyGoesPast()
    {
        var fresh = Ask(Monday, [InStaging("2.0", RolloutPhase.Succeeded, Monday.AddMinutes(-20))]);
        var decision = AdmissionRules.Decide(fresh);
        decision.Should().Be(new AdmissionDecision(AdmissionRule.Promotion, "web 2.0 has soaked in staging for 20m of 1h: it may enter production from 2026-11-02 09:40 UTC", Monday.AddMinutes(40)));
        decision.OnlyForNow.Should().BeTrue();

        var emergency = AdmissionRules.Decide(fresh with { Emergency = true, Reason = "data loss" });
        emergency.Allowed.Should().BeTrue();
        emergency.Emergency.Should().BeTrue();
        emergency.AwaitsApproval.Should().BeTrue("an emergency goes past the calendar and the soak, not past people");
    }

    [Fact(Timeout = 10_000)]
    public void Decide_NeverSucceededUpstream_RefusesEvenAnEmergency()
    {
        var failed = Ask(Monday, [InStaging("2.0", RolloutPhase.Aborted, Monday.AddHours(-2))]) with { Emergency = true, Reason = "now" };
        var decision = AdmissionRules.Decide(failed);
        decision.Refusal.Should().Be(AdmissionRule.Promotion);
        decision.OnlyForNow.Should().BeFalse("a queued deploy of it is dropped");
    }

    [Fact(Timeout = 10_000)]
    public void Decide_EmergencyRules_NeedAReasonTheRoleAndNoQueue()
    {
        var nightly = Ask(Monday.AddHours(12)) with { Emergency = true };
        AdmissionRules.Decide(nightly).Refusal.Should().Be(AdmissionRule.EmergencyNeedsReason);
        AdmissionRules.Decide(nightly with { Reason = "outage", Queue = true }).Refusal.Should().Be(AdmissionRule.EmergencyNotQueued);
        var deployer = new Principal("bob", [Role.Deployer], [], [], "t1");
        AdmissionRules.Decide(nightly with { Reason = "outage", Caller = deployer }).Should().Be(new AdmissionDecision(AdmissionRule.EmergencyRole, "bob does not hold the emergency role in production"));
        var oncall = deployer with { Roles = [Role.Deployer, Role.Emergency] };
        AdmissionRules.Decide(nightly with { Reason = "outage", Caller = oncall }).Allowed.Should().BeTrue("outside the window, but an emergency");
    }

    [Fact(Timeout = 10_000)]
    public void Decide_GateRefusal_ComesFirst()
    {
        AdmissionRules.Decide(Ask(Monday.AddHours(12)) with { GateRefusal = "gate 'release' decided BLOCK" })
            .Should().Be(new AdmissionDecision(AdmissionRule.Gate, "gate 'release' decided BLOCK"));
    }

    [Fact(Timeout = 10_000)]
    public void Decide_EnvironmentWithoutRules_AdmitsWithoutWaiting()
    {
        AdmissionRules.Decide(new AdmissionRequest("web", "staging", "2.0", Monday.AddHours(12), Manifest.FindEnvironment("staging"), [], []))
            .Should().Be(new AdmissionDecision(null, "admitted"));
    }
}
