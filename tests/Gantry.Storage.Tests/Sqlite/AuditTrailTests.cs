using Gantry.Core.Audit;
using Gantry.Core.Manifest;
using Gantry.Core.Rollouts;
using Gantry.Core.Strategies;
using Gantry.Storage.Sqlite;
using Gantry.Testing;
using Microsoft.Data.Sqlite;

namespace Gantry.Storage.Tests.Sqlite;

/// <summary>The audit trail's hash chain against rows edited, deleted, inserted and reordered directly in SQLite.</summary>
public sealed class AuditTrailTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("gantry-audit-").FullName;
    private readonly FakeTimeProvider time = new(TestClock.Start);

    private string DbPath => Path.Combine(folder, "gantry.db");

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(folder, recursive: true);
    }

    private async Task<SqliteStore> StoreWithHistoryAsync()
    {
        var store = SqliteStore.Open(DbPath, time);
        var service = ManifestLoader.LoadText("""
            version: 1
            services:
              web: { process: { command: app }, listen: 127.0.0.1:8080, strategy: { canary: { steps: [{ setWeight: 50 }] } } }
            """).Manifest!.Services[0];
        for (var i = 1; i <= 4; i++)
        {
            var state = RolloutEngine.Create($"web-production-{i}", service, "production", Release.Of($"{i}.0"), RolloutKind.Deploy, [], time.GetUtcNow(), "alice");
            (await store.CreateAsync(state, [new RolloutEvent(RolloutEventType.Created, $"deploy of web {i}.0")], default, who: new AuditContext("alice", "release train", "10.0.0.7"))).Should().Be(CommitOutcome.Committed);
            time.Advance(TimeSpan.FromMinutes(1));
            var done = state with { Phase = RolloutPhase.Succeeded, Revision = state.Revision + 1, UpdatedAt = time.GetUtcNow(), FinishedAt = time.GetUtcNow() };
            (await store.SaveAsync(done, state.Revision, [new RolloutEvent(RolloutEventType.TrafficShifted, "100% on it"), new RolloutEvent(RolloutEventType.Succeeded, "done")], default)).Should().Be(CommitOutcome.Committed);
        }

        return store;
    }

    private static Task<AuditVerification> VerifyAsync(SqliteStore store) => store.VerifyAuditAsync(default);

    private void Tamper(string sql)
    {
        using var connection = new SqliteConnection($"Data Source={DbPath}");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    [Fact(Timeout = 30_000)]
    public async Task Audit_EveryChange_IsRecordedWithWhoWhatWhenWhereAndWhy()
    {
        await using var store = await StoreWithHistoryAsync();
        var events = await store.AuditAsync(new AuditQuery("web/production/web-production-2"), default);
        events.Select(e => (e.Actor, e.Action, e.Detail)).Should().Equal(("alice", "rollout.Created", "deploy of web 2.0"), ("gantry", "rollout.TrafficShifted", "100% on it"), ("gantry", "rollout.Succeeded", "done"));
        events[0].Should().Match<AuditEvent>(e => e.Reason == "release train" && e.Source == "10.0.0.7" && e.Seq == 4);
        events[1].PreviousHash.Should().Be(events[0].Hash);
        (await store.AuditAsync(new AuditQuery("web/production"), default)).Should().HaveCount(12, "a service and environment take in their rollouts");
        (await store.AuditAsync(new AuditQuery("w_b"), default)).Should().BeEmpty("names are matched as text, not as LIKE patterns");
        (await VerifyAsync(store)).Should().Be(new AuditVerification(true, 12, null, "12 events verified: the chain is intact"));
    }

    [Theory(Timeout = 30_000)]
    [InlineData("UPDATE audit SET actor = 'mallory' WHERE seq = 5", 5, "event 5 (rollout.TrafficShifted by mallory at 2026-01-01 00:02:00 UTC) was edited: its content does not match its hash")]
    [InlineData("DELETE FROM audit WHERE seq = 6", 7, "events 6 to 6 are missing: deleted from the trail")]
    [InlineData("DELETE FROM audit WHERE seq = 1", 2, "the trail starts at event 2: events 1 to 1 were deleted")]
    [InlineData("DELETE FROM audit WHERE seq >= 11", 11, "the trail ends at event 10, but its recorded head is another event: events were cut from its end")]
    [InlineData("INSERT INTO audit SELECT 13, at, actor, action, target, detail, reason, source, hash, hash, approvals FROM audit WHERE seq = 12", 13, "event 13 (rollout.Succeeded by gantry at 2026-01-01 00:04:00 UTC) was edited: its content does not match its hash")]
    [InlineData("UPDATE audit SET seq = seq + 100 WHERE seq = 3; UPDATE audit SET seq = 3 WHERE seq = 4; UPDATE audit SET seq = 4 WHERE seq = 103", 3, "event 3 (rollout.Created by alice at 2026-01-01 00:01:00 UTC) was edited: its content does not match its hash")]
    public async Task VerifyAudit_RowsChangedInSqlite_FindsTheFirstBadEvent(string sql, long firstBad, string message)
    {
        await using (await StoreWithHistoryAsync())
        {
        }

        SqliteConnection.ClearAllPools();
        Tamper(sql);
        await using var store = SqliteStore.Open(DbPath, time);
        var verdict = await VerifyAsync(store);
        verdict.Intact.Should().BeFalse();
        verdict.FirstBad.Should().Be(firstBad);
        verdict.Message.Should().Be(message);
    }

    [Fact(Timeout = 30_000)]
    public async Task VerifyAudit_AnInsertedEventWithAValidHash_BreaksTheChainAfterIt()
    {
        await using (var store = await StoreWithHistoryAsync())
        {
            var second = (await store.AuditAsync(new AuditQuery(), default))[1];
            var forged = AuditChain.HashOf(second.Seq, second.At, "mallory", "rollout.Created", second.Target, "forged", null, null, second.PreviousHash);
            SqliteConnection.ClearAllPools();
            Tamper($"UPDATE audit SET actor = 'mallory', action = 'rollout.Created', detail = 'forged', reason = NULL, source = NULL, hash = '{forged}' WHERE seq = 2");
        }

        await using var reopened = SqliteStore.Open(DbPath, time);
        var verdict = await VerifyAsync(reopened);
        verdict.FirstBad.Should().Be(3);
        verdict.Message.Should().Be("event 3 does not follow event 2: an event was inserted, reordered or replaced there");
    }
}
