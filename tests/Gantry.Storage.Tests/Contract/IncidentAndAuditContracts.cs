using Gantry.Core.Audit;
using Gantry.Core.Dora;
using Gantry.Core.Incidents;
using Gantry.Core.Notifications;
using Gantry.Core.Rollouts;
using Gantry.Core.Strategies;

namespace Gantry.Storage.Tests.Contract;

/// <summary>Incidents and their notifications: a change and its notifications commit together or not at all; deliveries move pending to delivered or dead.</summary>
public abstract class IncidentStoreContract<TStore> : StoreContract<TStore>
    where TStore : IIncidentStore, IDeliveryStore, IAsyncDisposable
{
    private static Outbox Notice(Incident i, string kind, DateTimeOffset at) =>
        new(new Notification(kind, at, $"{i.Key} {kind}", "text", new Dictionary<string, string?>()), ["pager", "chat"], $"{kind} {i.Key} r{i.Revision}", at);

    [Fact(Timeout = 30_000)]
    public async Task SaveIncidentAsync_WithItsNotification_QueuesItOnlyWhenTheChangeCommits()
    {
        await using var store = Open();
        var opened = await store.OpenIncidentAsync(new Incident(0, "checkout errors", Severity.P1, IncidentStatus.Open, "web", "production", null, null, null, Time.GetUtcNow(), "alice"),
            [], new AuditContext("alice"), default, i => [Notice(i, "incident.opened", Time.GetUtcNow())]);
        (await store.DeliveriesAsync(null, 10, default)).Select(d => (d.Event, d.Receiver, d.Notification.Title)).Should().BeEquivalentTo(new[]
        {
            ("incident.opened", "pager", $"{opened.Key} incident.opened"), ("incident.opened", "chat", $"{opened.Key} incident.opened"),
        });

        // A stale revision: neither the change nor its notification.
        var escalated = opened with { EscalationLevel = 1, Revision = 2 };
        (await store.SaveIncidentAsync(escalated, 7, [], AuditContext.System, "incident.escalated", default, Notice(escalated, "incident.escalated", Time.GetUtcNow()))).Should().BeFalse();
        (await store.DeliveriesAsync(null, 10, default)).Should().HaveCount(2);

        (await store.SaveIncidentAsync(escalated, 1, [], AuditContext.System, "incident.escalated", default, Notice(escalated, "incident.escalated", Time.GetUtcNow()))).Should().BeTrue();
        await store.EnqueueAsync(Notice(escalated, "incident.escalated", Time.GetUtcNow()), default);
        (await store.DeliveriesAsync(null, 10, default)).Where(d => d.Event == "incident.escalated").Should().HaveCount(2, "queued with the change, once per receiver however often queued");
        (await store.IncidentAsync(opened.Id, default))!.EscalationLevel.Should().Be(1);
        (await store.IncidentsAsync(new IncidentQuery("web", "production", true), default)).Should().ContainSingle();
    }

    [Fact(Timeout = 30_000)]
    public async Task DeliveredAsync_AndFailedAsync_MoveDeliveriesOutOfTheDueList()
    {
        await using var store = Open();
        var opened = await store.OpenIncidentAsync(new Incident(0, "slow", Severity.P2, IncidentStatus.Open, null, null, null, null, null, Time.GetUtcNow(), "alice"),
            [], new AuditContext("alice"), default, i => [Notice(i, "incident.opened", Time.GetUtcNow())]);
        var due = await store.DueDeliveriesAsync(Time.GetUtcNow(), 10, default);
        due.Should().HaveCount(2);
        await store.DeliveredAsync(due[0].Id, 1, Time.GetUtcNow(), default);
        await store.FailedAsync(due[1].Id, 5, Time.GetUtcNow().AddMinutes(1), "connection refused", dead: true, Time.GetUtcNow(), default);
        (await store.DueDeliveriesAsync(Time.GetUtcNow().AddHours(1), 10, default)).Should().BeEmpty();
        (await store.DeliveriesAsync(DeliveryStatus.Dead, 10, default)).Should().ContainSingle().Which.Id.Should().Be(due[1].Id);
        opened.Key.Should().StartWith("INC-");
    }
}

/// <summary>The audit trail: every change recorded with who, what, when, where and why, hash-chained, filtered by target.</summary>
public abstract class AuditStoreContract<TStore> : StoreContract<TStore>
    where TStore : IRolloutStore, IAuditStore
{
    [Fact(Timeout = 30_000)]
    public async Task AuditAsync_RolloutChanges_AreChainedFilteredByTargetAndVerified()
    {
        await using var store = Open();
        var rollout = NewRollout("web-production-1", "v1");
        await store.CreateAsync(rollout, [new RolloutEvent(RolloutEventType.Created, "deploy of web v1")], default, who: new AuditContext("alice", "release train", "10.0.0.7"));
        await store.SaveAsync(rollout with { Revision = 1, Phase = RolloutPhase.Succeeded }, 0, [new RolloutEvent(RolloutEventType.Succeeded, "done")], default);
        await store.CreateAsync(NewRollout("web-staging-1", "v1", "staging"), [new RolloutEvent(RolloutEventType.Created, "deploy to staging")], default);

        var production = await store.AuditAsync(new AuditQuery("web/production"), default);
        production.Select(e => (e.Actor, e.Action, e.Detail)).Should().Equal(("alice", "rollout.Created", "deploy of web v1"), ("gantry", "rollout.Succeeded", "done"));
        production[0].Should().Match<AuditEvent>(e => e.Reason == "release train" && e.Source == "10.0.0.7");
        production[1].PreviousHash.Should().Be(production[0].Hash);
        (await store.AuditAsync(new AuditQuery("web"), default)).Should().HaveCount(3);
        (await store.AuditAsync(new AuditQuery("w_b"), default)).Should().BeEmpty("names are matched as text, not as patterns");
        (await store.VerifyAuditAsync(default)).Should().Be(new AuditVerification(true, 3, null, "3 events verified: the chain is intact"));
    }

    [Fact(Timeout = 30_000)]
    public async Task RecordAsync_DataPlaneObservations_JoinTheChain()
    {
        await using var store = Open();
        await store.CreateAsync(NewRollout("web-production-1", "v1"), [new RolloutEvent(RolloutEventType.Created, "deploy of web v1")], default);
        await store.RecordAsync(AuditEntries.RouterRestarted(41, 42, TimeSpan.FromMilliseconds(350), 7), Time.GetUtcNow(), AuditContext.System, default);
        await store.RecordAsync(AuditEntries.OrphansStopped("old", "production", "1.0", 2), Time.GetUtcNow(), AuditContext.System, default);

        var router = await store.AuditAsync(new AuditQuery("router"), default);
        router.Should().ContainSingle().Which.Detail.Should().Be("the router (pid 41) stopped; pid 42 serves table version 7 again after 350 ms");
        (await store.AuditAsync(new AuditQuery("old/production"), default)).Should().ContainSingle().Which.Action.Should().Be("instances.orphaned");
        (await store.VerifyAuditAsync(default)).Intact.Should().BeTrue();
    }

    [Fact(Timeout = 60_000)]
    public async Task VerifyAuditAsync_WhileEventsAreAppended_ChecksOneMomentOfTheTrail()
    {
        await using var store = Open();
        await store.RecordAsync(AuditEntries.OrphansStopped("old", "production", "1.0", 1), Time.GetUtcNow(), AuditContext.System, default);
        using var done = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var appending = Task.Run(async () =>
        {
            try
            {
                for (var i = 0; i < 400 && !done.IsCancellationRequested; i++)
                {
                    await store.RecordAsync(AuditEntries.OrphansStopped("old", "production", "1.0", i + 2), Time.GetUtcNow(), AuditContext.System, default);
                }
            }
            finally
            {
                await done.CancelAsync();
            }
        });

        // A verification beside a writer sees the trail and its head as of one moment: never a false "cut from its end".
        var verifications = new List<AuditVerification>();
        var watch = System.Diagnostics.Stopwatch.StartNew();
        while (!done.IsCancellationRequested && watch.Elapsed < TimeSpan.FromSeconds(30))
        {
            verifications.Add(await store.VerifyAuditAsync(default));
        }

        await appending;
        verifications.Should().HaveCountGreaterThan(1);
        verifications.Where(v => !v.Intact).Select(v => v.Message).Distinct().Should().BeEmpty("appends beside a verification are not tampering");
        verifications.Select(v => v.Checked).Should().BeInAscendingOrder();
        (await store.VerifyAuditAsync(default)).Should().Be(new AuditVerification(true, 401, null, "401 events verified: the chain is intact"));
    }
}

/// <summary>DORA facts: a rollout's outcome and lead time as it ends, incidents' restore times, within a period.</summary>
public abstract class DoraStoreContract<TStore> : StoreContract<TStore>
    where TStore : IRolloutStore, IIncidentStore, IDoraStore
{
    [Fact(Timeout = 30_000)]
    public async Task DoraFactsAsync_EndedRollouts_GiveOutcomeAndLeadTimeFromTheCommit()
    {
        await using var store = Open();
        var from = Time.GetUtcNow();
        var good = NewRollout("web-production-1", "v1");
        await store.CreateAsync(good, [], default);
        Time.Advance(TimeSpan.FromMinutes(30));
        await store.SaveAsync(good with { Revision = 1, Phase = RolloutPhase.Succeeded, FinishedAt = Time.GetUtcNow() }, 0, [], default);
        var bad = NewRollout("web-production-2", "v2");
        await store.CreateAsync(bad, [], default);
        await store.SaveAsync(bad with { Revision = 1, Phase = RolloutPhase.Aborted, FinishedAt = Time.GetUtcNow() }, 0, [], default);
        await store.OpenIncidentAsync(new Incident(0, "down", Severity.P1, IncidentStatus.Open, "web", "production", null, null, null, Time.GetUtcNow(), "alice"), [], new AuditContext("alice"), default);

        var (rollouts, incidents) = await store.DoraFactsAsync("web", "production", from, Time.GetUtcNow().AddMinutes(1), default);
        rollouts.Select(f => (f.Phase, f.LeadTime)).Should().BeEquivalentTo(new[] { (RolloutPhase.Succeeded, (TimeSpan?)TimeSpan.FromMinutes(30)), (RolloutPhase.Aborted, (TimeSpan?)TimeSpan.Zero) }, "the second was committed as its rollout started and ended at once");
        incidents.Should().ContainSingle().Which.ResolvedAt.Should().BeNull();
        (await store.DoraFactsAsync("api", null, from, Time.GetUtcNow(), default)).Rollouts.Should().BeEmpty();
    }
}
