using Gantry.Core.Rollouts;
using Gantry.Core.Strategies;

namespace Gantry.Storage.Tests.Contract;

/// <summary>Rollouts with their events: one active rollout per target, optimistic revisions, a gap-free event log, cursors, instance snapshots.</summary>
public abstract class RolloutStoreContract<TStore> : StoreContract<TStore>
    where TStore : IRolloutStore
{
    [Fact(Timeout = 30_000)]
    public async Task CreateAsync_Rollout_RoundTripsStateAndEventsAndSurvivesReopening()
    {
        var rollout = NewRollout("web-production-1", "v1");
        await using (var store = Open())
        {
            (await store.NextIdAsync("web", "production", default)).Should().Be("web-production-1");
            (await store.CreateAsync(rollout, [new RolloutEvent(RolloutEventType.Created, "deploy v1")], default)).Should().Be(CommitOutcome.Committed);
            (await store.NextIdAsync("web", "production", default)).Should().Be("web-production-2");
        }

        await using var reopened = Open();
        (await reopened.GetAsync(rollout.Id, default)).Should().Be(rollout);
        (await reopened.ListAsync(new RolloutQuery("web"), default)).Should().ContainSingle().Which.Should().Be(rollout);
        (await reopened.EventsAsync(0, rollout.Id, 100, default)).Should().ContainSingle().Which.Should().Match<StoredEvent>(e => e.Seq == 1 && e.Type == "Created" && e.Service == "web");
    }

    [Fact(Timeout = 30_000)]
    public async Task CreateAsync_SecondActiveRolloutOfATarget_IsRefusedAndChangesNothing()
    {
        await using var store = Open();
        (await store.CreateAsync(NewRollout("web-production-1", "v1"), [], default)).Should().Be(CommitOutcome.Committed);
        (await store.CreateAsync(NewRollout("web-production-2", "v2"), [new RolloutEvent(RolloutEventType.Created, "x")], default)).Should().Be(CommitOutcome.Busy);
        (await store.ListAsync(new RolloutQuery(), default)).Should().ContainSingle();
        (await store.EventsAsync(0, null, 100, default)).Should().BeEmpty();
    }

    [Fact(Timeout = 30_000)]
    public async Task SaveAsync_StaleRevision_IsAConflictAndChangesNothing()
    {
        await using var store = Open();
        var rollout = NewRollout("web-production-1", "v1");
        await store.CreateAsync(rollout, [], default);
        (await store.SaveAsync(rollout with { Revision = 1, Message = "one" }, 0, [new RolloutEvent(RolloutEventType.TrafficShifted, "a")], default)).Should().Be(CommitOutcome.Committed);
        (await store.SaveAsync(rollout with { Revision = 1, Message = "other" }, 0, [new RolloutEvent(RolloutEventType.Paused, "b")], default)).Should().Be(CommitOutcome.Conflict);
        (await store.GetAsync(rollout.Id, default))!.Message.Should().Be("one");
        (await store.EventsAsync(0, rollout.Id, 100, default)).Select(e => e.Type).Should().Equal("TrafficShifted");
    }

    [Fact(Timeout = 30_000)]
    public async Task ChangeMark_MovesWithEveryCommittedRolloutChange_AndWithNothingElse()
    {
        await using var store = Open();
        var start = await store.ChangeMarkAsync(default);
        var rollout = NewRollout("web-production-1", "v1");
        await store.CreateAsync(rollout, [], default);
        var created = await store.ChangeMarkAsync(default);
        created.Should().NotBe(start, "a rollout was created");

        await store.GetAsync(rollout.Id, default);
        await store.LatestPerTargetAsync(default);
        await store.ListAsync(new RolloutQuery(), default);
        (await store.ChangeMarkAsync(default)).Should().Be(created, "reads change nothing");

        (await store.SaveAsync(rollout with { Revision = 1 }, 0, [], default)).Should().Be(CommitOutcome.Committed);
        var saved = await store.ChangeMarkAsync(default);
        saved.Should().NotBe(created, "a rollout was saved, even without events");

        (await store.SaveAsync(rollout with { Revision = 1, Message = "late" }, 0, [], default)).Should().Be(CommitOutcome.Conflict);
        (await store.CreateAsync(NewRollout("web-production-2", "v2"), [], default)).Should().Be(CommitOutcome.Busy);
        (await store.ChangeMarkAsync(default)).Should().Be(saved, "nothing was committed");
    }

    [Fact(Timeout = 30_000)]
    public async Task SaveAsync_ManyWriters_EventsAreNumberedWithoutGapsOrDuplicates()
    {
        await using var store = Open();
        var rollout = NewRollout("web-production-1", "v1");
        await store.CreateAsync(rollout, [new RolloutEvent(RolloutEventType.Created, "c")], default);
        var committed = 0;
        await Parallel.ForEachAsync(Enumerable.Range(0, 40), async (i, ct) =>
        {
            // Each writer reads, changes and saves; the losers of a race see a conflict and try again.
            while (true)
            {
                var current = (await store.GetAsync(rollout.Id, ct))!;
                if (await store.SaveAsync(current with { Revision = current.Revision + 1, Message = $"w{i}" }, current.Revision, [new RolloutEvent(RolloutEventType.Resumed, $"w{i}")], ct) == CommitOutcome.Committed)
                {
                    Interlocked.Increment(ref committed);
                    return;
                }
            }
        });

        committed.Should().Be(40);
        (await store.EventsAsync(0, rollout.Id, 1000, default)).Select(e => e.Seq).Should().Equal(Enumerable.Range(1, 41));
        (await store.GetAsync(rollout.Id, default))!.Revision.Should().Be(40);
    }

    [Fact(Timeout = 30_000)]
    public async Task LatestPerTargetAsync_SeveralTargets_ReturnsTheNewestOfEach()
    {
        await using var store = Open();
        var first = NewRollout("web-production-1", "v1");
        await store.CreateAsync(first, [], default);
        await store.SaveAsync(first with { Phase = RolloutPhase.Succeeded, Revision = 1 }, 0, [], default);
        await store.CreateAsync(NewRollout("web-production-2", "v2"), [], default);
        await store.CreateAsync(NewRollout("web-staging-1", "v9", "staging"), [], default);
        (await store.LatestPerTargetAsync(default)).Select(r => r.Id).Should().Equal("web-production-2", "web-staging-1");
    }

    [Fact(Timeout = 30_000)]
    public async Task LatestPerTargetAsync_OfOneService_ReturnsTheNewestOfItsTargetsOnly()
    {
        await using var store = Open();
        await store.CreateAsync(NewRollout("web-production-1", "v1"), [], default);
        await store.CreateAsync(NewRollout("web-staging-1", "v9", "staging"), [], default);
        var api = NewRollout("api-production-1", "v3") with { Service = "api" };
        await store.CreateAsync(api, [], default);
        await store.SaveAsync(api with { Phase = RolloutPhase.Succeeded, Revision = 1 }, 0, [], default);
        (await store.CreateAsync(NewRollout("api-production-2", "v4") with { Service = "api" }, [], default)).Should().Be(CommitOutcome.Committed);

        (await store.LatestPerTargetAsync(default, "web")).Select(r => r.Id).Should().Equal("web-production-1", "web-staging-1");
        (await store.LatestPerTargetAsync(default, "api")).Select(r => r.Id).Should().Equal("api-production-2");
        (await store.LatestPerTargetAsync(default, "w_b")).Should().BeEmpty("a name is matched as text");
        (await store.LatestPerTargetAsync(default)).Select(r => r.Id).Should().Equal("api-production-2", "web-production-1", "web-staging-1");
    }

    [Fact(Timeout = 30_000)]
    public async Task CreateAsync_RollbackMarkingTheRolloutItUndoes_CommitsBothOrNeither()
    {
        await using var store = Open();
        var deployed = NewRollout("web-production-1", "v1") with { Phase = RolloutPhase.Succeeded };
        await store.CreateAsync(deployed, [new RolloutEvent(RolloutEventType.Created, "deploy")], default);
        var undone = new RolloutChange(deployed with { Phase = RolloutPhase.RolledBack, Revision = 1 }, 0, [new RolloutEvent(RolloutEventType.RolledBack, "rolled back to v0 by bob")]);

        // Refused (another rollout is active): the rollout to undo is left as it was.
        var other = NewRollout("web-production-2", "v2");
        await store.CreateAsync(other, [], default);
        (await store.CreateAsync(NewRollout("web-production-3", "v0"), [], default, marks: undone)).Should().Be(CommitOutcome.Busy);
        (await store.GetAsync("web-production-1", default))!.Phase.Should().Be(RolloutPhase.Succeeded);

        await store.SaveAsync(other with { Phase = RolloutPhase.Aborted, Revision = 1 }, 0, [], default);
        (await store.CreateAsync(NewRollout("web-production-3", "v0"), [new RolloutEvent(RolloutEventType.Created, "rollback")], default, who: new Core.Audit.AuditContext("bob"), marks: undone)).Should().Be(CommitOutcome.Committed);
        (await store.GetAsync("web-production-1", default))!.Phase.Should().Be(RolloutPhase.RolledBack);
        (await store.CommittedEventsAsync(0, 10, default)).Select(e => (e.Event.RolloutId, e.Event.Type, e.Actor))
            .Should().Equal(("web-production-1", "Created", "alice"), ("web-production-3", "Created", "bob"), ("web-production-1", "RolledBack", "bob"));
    }

    [Fact(Timeout = 30_000)]
    public async Task MoveCursorAsync_Follower_KeepsItsPositionAcrossReopening()
    {
        await using (var store = Open())
        {
            (await store.CursorAsync("incidents", default)).Should().Be(0);
            await store.MoveCursorAsync("incidents", 42, default);
            await store.MoveCursorAsync("other", 7, default);
        }

        await using var reopened = Open();
        (await reopened.CursorAsync("incidents", default)).Should().Be(42);
        (await reopened.CursorAsync("other", default)).Should().Be(7);
    }

    [Fact(Timeout = 30_000)]
    public async Task SaveInstancesAsync_NewSnapshot_ReplacesTheTargetsRecordsOnly()
    {
        await using var store = Open();
        InstanceRecord Record(string id, string service, string version) =>
            new(id, service, "production", version, new Core.Manifest.Values.Endpoint("127.0.0.1", 5000), 42, "Ready", 0, null, Time.GetUtcNow());
        await store.SaveInstancesAsync("web", "production", [Record("web-1", "web", "v1"), Record("web-2", "web", "v1")], default);
        await store.SaveInstancesAsync("api", "production", [Record("api-1", "api", "v7")], default);
        await store.SaveInstancesAsync("web", "production", [Record("web-3", "web", "v2")], default);

        (await store.InstancesAsync("web", "production", default)).Should().Equal(Record("web-3", "web", "v2"));
        (await store.InstancesAsync(null, null, default)).Select(r => r.Id).Should().Equal("api-1", "web-3");
    }
}
