using Gantry.Core.Access;
using Gantry.Core.Approvals;
using Gantry.Core.Audit;
using Gantry.Core.Checklists;
using Gantry.Core.Gates;
using Gantry.Core.Policies;
using Gantry.Core.Rollouts;
using Gantry.Core.Strategies;

namespace Gantry.Storage.Tests.Contract;

/// <summary>Governance: declared freezes, approvals and checklist sign-offs, each audited in the transaction that records it.</summary>
public abstract class GovernanceStoreContract<TStore> : StoreContract<TStore>
    where TStore : IRolloutStore, IFreezeStore, IApprovalStore, IChecklistStore, IAuditStore
{
    [Fact(Timeout = 30_000)]
    public async Task DeclareFreezeAsync_ThenLift_KeepsBothWithWhoAndWhen()
    {
        await using var store = Open();
        var declared = await store.DeclareFreezeAsync(new DeclaredFreeze(0, "production", "incident 42", "alice", Time.GetUtcNow(), null), default);
        declared.Id.Should().BePositive();
        (await store.FreezesAsync("production", default)).Should().ContainSingle().Which.IsActive(Time.GetUtcNow()).Should().BeTrue();

        Time.Advance(TimeSpan.FromHours(1));
        var lifted = await store.LiftFreezesAsync("production", "bob", Time.GetUtcNow(), default);
        lifted.Should().ContainSingle().Which.Should().Match<DeclaredFreeze>(f => f.LiftedBy == "bob" && f.LiftedAt == Time.GetUtcNow());
        (await store.FreezesAsync("production", default)).Should().OnlyContain(f => !f.IsActive(Time.GetUtcNow()));
        (await store.LiftFreezesAsync("production", "bob", Time.GetUtcNow(), default)).Should().BeEmpty("nothing is left to lift");
        (await store.AuditAsync(new AuditQuery("production"), default)).Select(e => e.Action).Should().Equal("environment.frozen", "environment.unfrozen");
    }

    [Fact(Timeout = 30_000)]
    public async Task RecordApprovalAsync_Decisions_AreListedInOrderAndAuditedWithTheRollout()
    {
        await using var store = Open();
        var rollout = NewRollout("web-production-1", "v1");
        await store.CreateAsync(rollout, [], default);
        await store.RecordApprovalAsync(new ApprovalRecord(rollout.Id, "bob", ["sre"], ApprovalDecision.Approved, "looks good", Time.GetUtcNow()), new AuditContext("bob"), default);
        await store.RecordApprovalAsync(new ApprovalRecord(rollout.Id, "carol", ["leads"], ApprovalDecision.Rejected, "not today", Time.GetUtcNow()), new AuditContext("carol"), default);
        (await store.ApprovalsAsync(rollout.Id, default)).Select(a => (a.By, a.Decision, a.Groups.Single())).Should().Equal(("bob", ApprovalDecision.Approved, "sre"), ("carol", ApprovalDecision.Rejected, "leads"));
        (await store.AuditAsync(new AuditQuery(AuditEntries.TargetOf(rollout)), default)).Select(e => e.Action).Should().Equal("rollout.approved", "rollout.rejected");
    }

    [Fact(Timeout = 30_000)]
    public async Task SignAsync_AnItemTwice_CountsTheFirstOnly()
    {
        await using var store = Open();
        var rollout = NewRollout("web-production-1", "v1");
        await store.CreateAsync(rollout, [], default);
        (await store.SignAsync(new SignOff(rollout.Id, "qa", "dave", Time.GetUtcNow()), default)).Should().BeTrue();
        (await store.SignAsync(new SignOff(rollout.Id, "qa", "erin", Time.GetUtcNow()), default)).Should().BeFalse();
        (await store.SignOffsAsync(rollout.Id, default)).Should().ContainSingle().Which.By.Should().Be("dave");

        var record = new ChecklistRecord(rollout.Id, "production", [new ChecklistItemResult("qa", "signoff", true, true, "signed off by dave", Time.GetUtcNow())], Time.GetUtcNow());
        await store.SaveChecklistAsync(record, default);
        (await store.ChecklistAsync(rollout.Id, default)).Should().BeEquivalentTo(record);
    }
}

/// <summary>Identities and tokens: stored by hash, revoked once, audited.</summary>
public abstract class TokenStoreContract<TStore> : StoreContract<TStore>
    where TStore : ITokenStore, IAuditStore, IAsyncDisposable
{
    [Fact(Timeout = 30_000)]
    public async Task CreateTokenAsync_ThenRevoke_IsListedWithItsStateAndAudited()
    {
        await using var store = Open();
        var token = new ApiToken("t1", "ci-bot", [Role.Deployer], ["release"], ["staging"], "hash-1", Time.GetUtcNow(), "admin", Time.GetUtcNow().AddDays(90));
        await store.CreateTokenAsync(token, new AuditContext("admin"), default);
        (await store.TokenAsync("t1", default)).Should().Be(token);

        Time.Advance(TimeSpan.FromMinutes(1));
        await store.TouchTokenAsync("t1", Time.GetUtcNow(), default);
        (await store.TokenAsync("t1", default))!.LastUsedAt.Should().Be(Time.GetUtcNow());
        var revoked = await store.RevokeTokenAsync("t1", Time.GetUtcNow(), new AuditContext("admin"), default);
        revoked!.RevokedBy.Should().Be("admin");
        (await store.TokensAsync(default)).Should().ContainSingle().Which.RevokedAt.Should().Be(Time.GetUtcNow());
        (await store.RevokeTokenAsync("nope", Time.GetUtcNow(), new AuditContext("admin"), default)).Should().BeNull();
        (await store.AuditAsync(new AuditQuery("token"), default)).Select(e => e.Action).Should().Equal("token.created", "token.revoked");
    }
}

/// <summary>Gates: evaluations newest first, the latest per release, overrides only of a REMEDIATE.</summary>
public abstract class GateStoreContract<TStore> : StoreContract<TStore>
    where TStore : IGateStore, IAsyncDisposable
{
    private GateEvaluation Evaluation(string version, GateDecision decision) =>
        new("release", "web", version, decision, decision == GateDecision.Deploy ? 100 : 60, decision.ToString(), [], [], Time.GetUtcNow());

    [Fact(Timeout = 30_000)]
    public async Task SaveEvaluationAsync_ThenOverride_KeepsTheLatestPerReleaseAndTheOverride()
    {
        await using var store = Open();
        await store.SaveEvaluationAsync(Evaluation("1.0", GateDecision.Deploy), new AuditContext("ci"), default);
        Time.Advance(TimeSpan.FromMinutes(1));
        await store.SaveEvaluationAsync(Evaluation("2.0", GateDecision.Remediate), new AuditContext("ci"), default);

        (await store.LatestEvaluationAsync("release", "web", "2.0", default))!.Decision.Should().Be(GateDecision.Remediate);
        (await store.EvaluationsAsync("web", null, 10, default)).Select(e => e.Version).Should().Equal("2.0", "1.0");
        var overridden = await store.OverrideAsync("release", "web", "2.0", new GateOverride("alice", "hotfix", Time.GetUtcNow()), default);
        overridden!.Override!.By.Should().Be("alice");
        (await store.LatestEvaluationAsync("release", "web", "2.0", default))!.Override.Should().NotBeNull();
        (await store.OverrideAsync("release", "web", "3.0", new GateOverride("alice", "x", Time.GetUtcNow()), default)).Should().BeNull("there is nothing to override");
    }
}

/// <summary>Maintenance switches: on (or a new message), off once, each audited.</summary>
public abstract class MaintenanceStoreContract<TStore> : StoreContract<TStore>
    where TStore : Core.Traffic.IMaintenanceStore, IAuditStore, IRolloutStore, IAsyncDisposable
{
    [Fact(Timeout = 30_000)]
    public async Task ChangeMark_MovesWithEveryMaintenanceAndPauseSwitch()
    {
        await using var store = Open();
        var marks = new List<long> { await store.ChangeMarkAsync(default) };
        await store.SetMaintenanceAsync(new Core.Traffic.Maintenance("web", "production", "upgrading", "alice", Time.GetUtcNow()), new AuditContext("alice"), default);
        marks.Add(await store.ChangeMarkAsync(default));
        await store.ClearMaintenanceAsync("web", "production", Time.GetUtcNow(), new AuditContext("bob"), default);
        marks.Add(await store.ChangeMarkAsync(default));
        await store.PauseAsync(new Core.Traffic.TrafficPause("web", "production", TimeSpan.FromSeconds(30), "alice", Time.GetUtcNow()), new AuditContext("alice"), default);
        marks.Add(await store.ChangeMarkAsync(default));
        await store.ResumeAsync("web", "production", Time.GetUtcNow(), new AuditContext("bob"), default);
        marks.Add(await store.ChangeMarkAsync(default));
        marks.Should().OnlyHaveUniqueItems("each switch moved the mark");
        await store.MaintenanceAsync(default);
        await store.PausesAsync(default);
        (await store.ChangeMarkAsync(default)).Should().Be(marks[^1], "reading the switches changes nothing");
    }

    [Fact(Timeout = 30_000)]
    public async Task SetMaintenanceAsync_ThenClear_IsListedWhileOnAndAudited()
    {
        await using var store = Open();
        var on = new Core.Traffic.Maintenance("web", "production", "upgrading", "alice", Time.GetUtcNow());
        await store.SetMaintenanceAsync(on, new AuditContext("alice"), default);
        await store.SetMaintenanceAsync(on with { Message = "upgrading, back at 10:00" }, new AuditContext("alice"), default);
        (await store.MaintenanceAsync(default)).Should().ContainSingle().Which.Message.Should().Be("upgrading, back at 10:00");

        (await store.ClearMaintenanceAsync("web", "production", Time.GetUtcNow(), new AuditContext("bob"), default))!.By.Should().Be("alice");
        (await store.ClearMaintenanceAsync("web", "production", Time.GetUtcNow(), new AuditContext("bob"), default)).Should().BeNull("it is off already");
        (await store.MaintenanceAsync(default)).Should().BeEmpty();
        (await store.AuditAsync(new AuditQuery("web/production"), default)).Select(e => (e.Action, e.Actor)).Should().Equal(("maintenance.on", "alice"), ("maintenance.on", "alice"), ("maintenance.off", "bob"));
    }

    [Fact(Timeout = 30_000)]
    public async Task PauseAsync_ThenResume_IsListedWhilePausedAndAudited()
    {
        await using var store = Open();
        var pause = new Core.Traffic.TrafficPause("web", "production", TimeSpan.FromSeconds(30), "alice", Time.GetUtcNow());
        await store.PauseAsync(pause, new AuditContext("alice"), default);
        await store.PauseAsync(pause with { MaxWait = TimeSpan.FromMilliseconds(2500) }, new AuditContext("alice"), default);
        (await store.PausesAsync(default)).Should().ContainSingle().Which.MaxWait.Should().Be(TimeSpan.FromMilliseconds(2500));

        (await store.ResumeAsync("web", "production", Time.GetUtcNow(), new AuditContext("bob"), default))!.By.Should().Be("alice");
        (await store.ResumeAsync("web", "production", Time.GetUtcNow(), new AuditContext("bob"), default)).Should().BeNull("it is resumed already");
        (await store.PausesAsync(default)).Should().BeEmpty();
        (await store.AuditAsync(new AuditQuery("web/production"), default)).Select(e => (e.Action, e.Detail)).Should().Equal(
            ("traffic.paused", "new requests held, each up to 30 s"), ("traffic.paused", "new requests held, each up to 2.5 s"), ("traffic.resumed", $"held requests released (paused since {pause.Since.UtcDateTime:yyyy-MM-dd HH:mm} UTC, by alice)"));
    }
}
