using Gantry.Core.Manifest;
using Gantry.Core.Rollouts;
using Gantry.Core.Strategies;
using Gantry.Storage.Migrations;
using Gantry.Storage.Sqlite;
using Gantry.Testing;
using Microsoft.Data.Sqlite;

namespace Gantry.Storage.Tests.Sqlite;

public sealed class SqliteStoreTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("gantry-store-").FullName;
    private readonly FakeTimeProvider time = new(TestClock.Start);

    private string DbPath => Path.Combine(folder, "gantry.db");

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(folder, recursive: true);
    }

    private static ServiceSpec Service()
    {
        var loaded = ManifestLoader.LoadText("""
            version: 1
            services:
              web:
                process: { command: app }
                listen: 127.0.0.1:8080
                replicas: 2
                strategy: { canary: { steps: [{ setWeight: 50 }] } }
            """);
        return loaded.Manifest!.Services[0];
    }

    private RolloutState NewRollout(string id, string version) =>
        RolloutEngine.Create(id, Service(), "production", new Release(version, [new("FEATURE", "on")], "abc123", time.GetUtcNow()), RolloutKind.Deploy, [], time.GetUtcNow(), "alice");

    [Fact(Timeout = 30_000)]
    public async Task Open_NewDatabase_AppliesEveryMigrationOnceInWalMode()
    {
        await using (SqliteStore.Open(DbPath, time))
        {
        }

        await using (SqliteStore.Open(DbPath, time))
        {
        }

        await using var connection = new SqliteConnection($"Data Source={DbPath}");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM schema_migrations";
        (await command.ExecuteScalarAsync()).Should().Be((long)Migrator.All.Count);
        command.CommandText = "PRAGMA journal_mode";
        (await command.ExecuteScalarAsync()).Should().Be("wal");
    }

    [Fact(Timeout = 30_000)]
    public async Task Open_DatabaseFromANewerGantry_RefusesWithTheReason()
    {
        await using (SqliteStore.Open(DbPath, time))
        {
        }

        await using (var connection = new SqliteConnection($"Data Source={DbPath}"))
        {
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = "INSERT INTO schema_migrations VALUES (999, 'future', 'x')";
            await command.ExecuteNonQueryAsync();
        }

        var open = () => SqliteStore.Open(DbPath, time);
        open.Should().Throw<InvalidOperationException>().WithMessage("the database is at schema version 999, newer than this Gantry knows*");
    }

    [Fact(Timeout = 30_000)]
    public async Task CreateAsync_Rollout_RoundTripsStateEventsAndRelease()
    {
        await using var store = SqliteStore.Open(DbPath, time);
        var id = await store.NextIdAsync("web", "production", default);
        id.Should().Be("web-production-1");
        var rollout = NewRollout(id, "v1");
        (await store.CreateAsync(rollout, [new RolloutEvent(RolloutEventType.Created, "deploy v1")], default)).Should().Be(CommitOutcome.Committed);

        (await store.GetAsync(id, default)).Should().Be(rollout);
        (await store.ListAsync(new RolloutQuery("web"), default)).Should().ContainSingle().Which.Should().Be(rollout);
        var events = await store.EventsAsync(0, id, 100, default);
        events.Should().ContainSingle().Which.Should().Match<StoredEvent>(e => e.Seq == 1 && e.Type == "Created" && e.Service == "web");
        (await store.ReleasesAsync("web", default)).Should().ContainSingle().Which.Release.Should().Be(rollout.Release);
        (await store.NextIdAsync("web", "production", default)).Should().Be("web-production-2");
    }

    [Fact(Timeout = 30_000)]
    public async Task CreateAsync_SecondActiveRolloutOfATarget_IsRefusedAndChangesNothing()
    {
        await using var store = SqliteStore.Open(DbPath, time);
        (await store.CreateAsync(NewRollout("web-production-1", "v1"), [], default)).Should().Be(CommitOutcome.Committed);
        (await store.CreateAsync(NewRollout("web-production-2", "v2"), [new RolloutEvent(RolloutEventType.Created, "x")], default)).Should().Be(CommitOutcome.Busy);
        (await store.ListAsync(new RolloutQuery(), default)).Should().ContainSingle();
        (await store.EventsAsync(0, null, 100, default)).Should().BeEmpty();
    }

    [Fact(Timeout = 30_000)]
    public async Task SaveAsync_StaleRevision_IsAConflictAndChangesNothing()
    {
        await using var store = SqliteStore.Open(DbPath, time);
        var rollout = NewRollout("web-production-1", "v1");
        await store.CreateAsync(rollout, [], default);
        var next = rollout with { Revision = 1, Message = "one" };
        (await store.SaveAsync(next, 0, [new RolloutEvent(RolloutEventType.TrafficShifted, "a")], default)).Should().Be(CommitOutcome.Committed);
        (await store.SaveAsync(rollout with { Revision = 1, Message = "other" }, 0, [new RolloutEvent(RolloutEventType.Paused, "b")], default)).Should().Be(CommitOutcome.Conflict);
        (await store.GetAsync(rollout.Id, default))!.Message.Should().Be("one");
        (await store.EventsAsync(0, rollout.Id, 100, default)).Select(e => e.Type).Should().Equal("TrafficShifted");
    }

    [Fact(Timeout = 30_000)]
    public async Task SaveAsync_ManyWriters_EventsAreNumberedWithoutGapsOrDuplicates()
    {
        await using var store = SqliteStore.Open(DbPath, time);
        var rollout = NewRollout("web-production-1", "v1");
        await store.CreateAsync(rollout, [new RolloutEvent(RolloutEventType.Created, "c")], default);
        var committed = 0;
        await Parallel.ForEachAsync(Enumerable.Range(0, 40), async (i, ct) =>
        {
            // Each writer reads, changes and saves; the losers of a race see a conflict and try again.
            while (true)
            {
                var current = (await store.GetAsync(rollout.Id, ct))!;
                var outcome = await store.SaveAsync(current with { Revision = current.Revision + 1, Message = $"w{i}" }, current.Revision, [new RolloutEvent(RolloutEventType.Resumed, $"w{i}")], ct);
                if (outcome == CommitOutcome.Committed)
                {
                    Interlocked.Increment(ref committed);
                    return;
                }
            }
        });

        committed.Should().Be(40);
        var events = await store.EventsAsync(0, rollout.Id, 1000, default);
        events.Select(e => e.Seq).Should().Equal(Enumerable.Range(1, 41));
        (await store.GetAsync(rollout.Id, default))!.Revision.Should().Be(40);
    }

    [Fact(Timeout = 30_000)]
    public async Task LatestPerTargetAsync_SeveralTargets_ReturnsTheNewestOfEach()
    {
        await using var store = SqliteStore.Open(DbPath, time);
        var first = NewRollout("web-production-1", "v1");
        await store.CreateAsync(first, [], default);
        await store.SaveAsync(first with { Phase = RolloutPhase.Succeeded, Revision = 1 }, 0, [], default);
        await store.CreateAsync(NewRollout("web-production-2", "v2"), [], default);
        await store.CreateAsync(NewRollout("web-staging-1", "v9") with { Environment = "staging" }, [], default);

        var latest = await store.LatestPerTargetAsync(default);
        latest.Select(r => r.Id).Should().Equal("web-production-2", "web-staging-1");
    }

    [Fact(Timeout = 30_000)]
    public async Task SaveInstancesAsync_NewSnapshot_ReplacesTheTargetsRecordsOnly()
    {
        await using var store = SqliteStore.Open(DbPath, time);
        InstanceRecord Record(string id, string service, string version) =>
            new(id, service, "production", version, new Gantry.Core.Manifest.Values.Endpoint("127.0.0.1", 5000), 42, "Ready", 0, null, time.GetUtcNow());
        await store.SaveInstancesAsync("web", "production", [Record("web-1", "web", "v1"), Record("web-2", "web", "v1")], default);
        await store.SaveInstancesAsync("api", "production", [Record("api-1", "api", "v7")], default);

        await store.SaveInstancesAsync("web", "production", [Record("web-3", "web", "v2")], default);

        (await store.InstancesAsync("web", "production", default)).Should().Equal(Record("web-3", "web", "v2"));
        (await store.InstancesAsync(null, null, default)).Select(r => r.Id).Should().Equal("api-1", "web-3");
    }

    [Fact(Timeout = 30_000)]
    public async Task SaveAnalysisAsync_RunWithNaNAndInfiniteStatistics_RoundTrips()
    {
        await using var store = SqliteStore.Open(DbPath, time);
        await store.CreateAsync(NewRollout("r1", "v1"), [], default);
        var estimate = new Gantry.Core.Analysis.Statistics.ShiftEstimate(10, 10, double.NaN, 0, 0.5, 0.4, double.PositiveInfinity, 0.98);
        var judged = new Gantry.Core.Analysis.Judge.MetricJudgement("p99", Gantry.Core.Analysis.Judge.MetricClass.High, true, false, 1, estimate, 1.0, 0.5, "p99: higher");
        var judgement = new Gantry.Core.Analysis.Judge.Judgement(0, Gantry.Core.Analysis.Judge.JudgementOutcome.Fail, [judged], "score 0");
        var measurement = new Gantry.Core.Analysis.MetricMeasurement(time.GetUtcNow(), Gantry.Core.Analysis.AnalysisPhase.Failed, double.NaN, null, "p99: higher");
        var metric = new Gantry.Core.Analysis.MetricResult("p99", false, Gantry.Core.Analysis.AnalysisPhase.Failed, 1, 0, 1, 0, 0, 0, 0, [measurement]);
        var run = new Gantry.Core.Analysis.AnalysisRunRecord("r1/1/1", "r1", ["judge"], "step 2/2", Gantry.Core.Analysis.AnalysisPhase.Failed, "failed", [metric], [judgement], time.GetUtcNow(), time.GetUtcNow());

        await store.SaveAnalysisAsync(run, default);

        var back = (await store.AnalysisAsync("r1", default)).Should().ContainSingle().Subject;
        back.Judgements[0].Metrics[0].Estimate!.U.Should().Be(double.NaN);
        back.Judgements[0].Metrics[0].Estimate!.Upper.Should().Be(double.PositiveInfinity);
        back.Metrics[0].Measurements[0].Value.Should().Be(double.NaN);
    }

    [Fact(Timeout = 30_000)]
    public async Task EnqueueAsync_QueuedDeploy_LeavesTheQueueOnlyWithTheRolloutItStarts()
    {
        await using var store = SqliteStore.Open(DbPath, time);
        var queued = await store.EnqueueAsync(new QueuedDeploy(0, "web", "production", Release.Of("v2"), "alice", time.GetUtcNow()), default);
        queued.Id.Should().BePositive();
        (await store.QueuedAsync("web", "production", default)).Should().Equal(queued);

        (await store.CreateAsync(NewRollout("web-production-1", "v2"), [], default, queued.Id)).Should().Be(CommitOutcome.Committed);
        (await store.QueuedAsync(null, null, default)).Should().BeEmpty();

        // Starting the same queued deploy twice: the second attempt changes nothing.
        await store.SaveAsync((await store.GetAsync("web-production-1", default))! with { Phase = RolloutPhase.Succeeded, Revision = 1 }, 0, [], default);
        (await store.CreateAsync(NewRollout("web-production-2", "v2"), [], default, queued.Id)).Should().Be(CommitOutcome.Conflict);
        (await store.GetAsync("web-production-2", default)).Should().BeNull();
    }

    [Fact(Timeout = 30_000)]
    public async Task CreateAsync_RollbackMarkingTheRolloutItUndoes_CommitsBothOrNeither()
    {
        await using var store = SqliteStore.Open(DbPath, time);
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
        var log = await store.CommittedEventsAsync(0, 10, default);
        log.Select(e => (e.Event.RolloutId, e.Event.Type, e.Actor)).Should().Equal(("web-production-1", "Created", "alice"), ("web-production-3", "Created", "bob"), ("web-production-1", "RolledBack", "bob"));
    }

    [Fact(Timeout = 30_000)]
    public async Task SaveIncidentAsync_WithItsNotification_QueuesItOnlyWhenTheChangeCommits()
    {
        await using var store = SqliteStore.Open(DbPath, time);
        static Core.Notifications.Outbox Notice(Core.Incidents.Incident i, string kind, DateTimeOffset at) =>
            new(new Core.Notifications.Notification(kind, at, $"{i.Key} {kind}", "text", new Dictionary<string, string?>()), ["pager", "chat"], $"{kind} {i.Key} r{i.Revision}", at);

        var opened = await store.OpenIncidentAsync(new Core.Incidents.Incident(0, "checkout errors", Core.Incidents.Severity.P1, Core.Incidents.IncidentStatus.Open, "web", "production", null, null, null, time.GetUtcNow(), "alice"),
            [], new Core.Audit.AuditContext("alice"), default, i => Notice(i, "incident.opened", time.GetUtcNow()));
        (await store.DeliveriesAsync(null, 10, default)).Select(d => (d.Event, d.Receiver, d.Notification.Title)).Should().BeEquivalentTo(new[]
        {
            ("incident.opened", "pager", $"{opened.Key} incident.opened"), ("incident.opened", "chat", $"{opened.Key} incident.opened"),
        });

        // A stale revision: neither the change nor its notification.
        var escalated = opened with { EscalationLevel = 1, Revision = 2 };
        (await store.SaveIncidentAsync(escalated, 7, [], Core.Audit.AuditContext.System, "incident.escalated", default, Notice(escalated, "incident.escalated", time.GetUtcNow()))).Should().BeFalse();
        (await store.DeliveriesAsync(null, 10, default)).Should().HaveCount(2);

        (await store.SaveIncidentAsync(escalated, 1, [], Core.Audit.AuditContext.System, "incident.escalated", default, Notice(escalated, "incident.escalated", time.GetUtcNow()))).Should().BeTrue();
        await store.EnqueueAsync(Notice(escalated, "incident.escalated", time.GetUtcNow()), default);
        (await store.DeliveriesAsync(null, 10, default)).Where(d => d.Event == "incident.escalated").Should().HaveCount(2, "queued with the change, once per receiver however often queued");
    }
}
