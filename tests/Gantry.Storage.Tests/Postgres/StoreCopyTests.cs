using System.Data.Common;
using System.Globalization;
using Gantry.Core.Access;
using Gantry.Core.Approvals;
using Gantry.Core.Audit;
using Gantry.Core.Policies;
using Gantry.Core.Rollouts;
using Gantry.Core.Strategies;
using Gantry.Storage.Backups;
using Gantry.Storage.Postgres;
using Gantry.Storage.Sqlite;
using Gantry.Storage.Transfer;
using Gantry.Testing;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Gantry.Storage.Tests.Postgres;

/// <summary>A whole store copied between kinds, row for row: SQLite to PostgreSQL (migrate), PostgreSQL to a SQLite file (backup) and its check.</summary>
[Collection("postgres")]
public sealed class StoreCopyTests(PostgresFixture fixture) : IDisposable
{
    private readonly FakeTimeProvider time = new(TestClock.Start);
    private readonly string folder = Directory.CreateTempSubdirectory("gantry-copy-").FullName;

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(folder, recursive: true);
    }

    /// <summary>The tables the copy leaves out on purpose (state of the running control planes), as SQL strings.</summary>
    private static string NotCopied => string.Join(", ", StoreCopy.NotCopied.Select(t => $"'{t}'"));

    [Fact(Timeout = 60_000)]
    public async Task Tables_NameEveryColumnOfBothSchemas()
    {
        await using (SqliteStore.Open(Path.Combine(folder, "empty.db"), time))
        {
        }

        var url = await fixture.Server.CreateDatabaseAsync("schema");
        await using (PostgresStore.Open(url, time))
        {
        }

        var copied = StoreCopy.Tables.ToDictionary(t => t.Table, t => t.Columns.Order().ToList());
        await using (var sqlite = new SqliteConnection($"Data Source={Path.Combine(folder, "empty.db")}"))
        {
            await sqlite.OpenAsync();
            var tables = await ColumnsAsync(sqlite, $"SELECT m.name, p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p WHERE m.type = 'table' AND m.name NOT IN ('schema_migrations', 'sqlite_sequence', {NotCopied})");
            tables.Should().BeEquivalentTo(copied.ToDictionary(t => t.Key, t => t.Value.Where(c => c != "rowid").ToList()), "SQLite's rowid is implicit");
        }

        await using (var postgres = new NpgsqlConnection(PostgresLocation.Parse(url).ConnectionString))
        {
            await postgres.OpenAsync();
            var tables = await ColumnsAsync(postgres, $"SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name NOT IN ('schema_migrations', {NotCopied})");
            tables.Should().BeEquivalentTo(copied);
        }
    }

    [Fact(Timeout = 120_000)]
    public async Task Copy_SqliteToPostgresAndBackToAFile_KeepsEveryRowAndTheChain_AndIdsGoOnAfterIt()
    {
        var original = Path.Combine(folder, "gantry.db");
        await using (var store = SqliteStore.Open(original, time))
        {
            await FillAsync(store);
        }

        var url = await fixture.Server.CreateDatabaseAsync("migrated");
        StoreCopyResult result;
        await using (var from = SqliteStore.Open(original, time))
        await using (var to = PostgresStore.Open(url, time))
        {
            result = await StoreCopy.CopyAsync(from, to, default);
            result.Audit.Intact.Should().BeTrue(result.Audit.Message);
            result.Tables.Should().Contain(("rollouts", 3)).And.Contain(("events", 6));

            // The identities go on after the copied ids.
            var next = NewRollout("web-production-4", "v4");
            await to.CreateAsync(next, [new RolloutEvent(RolloutEventType.Created, "after the move")], default);
            (await to.EventsAsync(0, next.Id, 10, default)).Single().Id.Should().Be(7);
            (await to.DeclareFreezeAsync(new DeclaredFreeze(0, "staging", "after", "bob", time.GetUtcNow(), null), default)).Id.Should().Be(2);
        }

        var copyBack = Path.Combine(folder, "copy.db");
        await using (var from = PostgresStore.Open(url, time))
        await using (var to = SqliteStore.Open(copyBack, time))
        {
            (await StoreCopy.CopyAsync(from, to, default)).Audit.Intact.Should().BeTrue();
        }

        var before = await DumpSqliteAsync(original);
        var after = await DumpSqliteAsync(copyBack);
        foreach (var (table, rows) in before)
        {
            var expected = table switch
            {
                "audit_head" => rows, // moved on by the writes after the copy; the chain is verified instead
                "rollouts" or "events" or "audit" or "declared_freezes" or "releases" => after[table].Take(rows.Count).ToList(),
                _ => after[table],
            };
            expected.Should().Equal(rows, $"{table} is copied row for row, with its ids");
        }

        var summary = await StoreBackup.VerifyAsync(copyBack, time, default);
        summary.Rollouts.Should().Be(4);
        summary.Audit.Intact.Should().BeTrue();
    }

    [Fact(Timeout = 180_000)]
    public async Task Copy_AThousandRollouts_MovesEveryOneWithItsEventsAndTheChain()
    {
        var original = Path.Combine(folder, "thousand.db");
        await using (var store = SqliteStore.Open(original, time))
        {
            for (var i = 1; i <= 1000; i++)
            {
                var rollout = NewRollout($"web-production-{i}", $"v{i}");
                await store.CreateAsync(rollout, [new RolloutEvent(RolloutEventType.Created, $"deploy {i}")], default);
                time.Advance(TimeSpan.FromMinutes(1));
                await store.SaveAsync(rollout with { Revision = 1, Phase = i % 10 == 0 ? RolloutPhase.RolledBack : RolloutPhase.Succeeded, UpdatedAt = time.GetUtcNow(), FinishedAt = time.GetUtcNow() }, 0, [new RolloutEvent(RolloutEventType.Succeeded, "done")], default);
            }
        }

        var url = await fixture.Server.CreateDatabaseAsync("thousand");
        await using var from = SqliteStore.Open(original, time);
        await using var to = PostgresStore.Open(url, time);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var result = await StoreCopy.CopyAsync(from, to, default);
        watch.Stop();
        result.Tables.Should().Contain(("rollouts", 1000)).And.Contain(("events", 2000)).And.Contain(("audit", 2000)).And.Contain(("releases", 1000));
        result.Audit.Should().Be(new AuditVerification(true, 2000, null, "2000 events verified: the chain is intact"));
        (await to.ListAsync(new RolloutQuery(Limit: 1000), default)).Should().HaveCount(1000);
        var (facts, _) = await to.DoraFactsAsync(null, "production", TestClock.Start.AddDays(-1), time.GetUtcNow().AddDays(1), default);
        var (expected, _) = await from.DoraFactsAsync(null, "production", TestClock.Start.AddDays(-1), time.GetUtcNow().AddDays(1), default);
        facts.Should().BeEquivalentTo(expected, "DORA reads the same facts on both sides");
        watch.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(60), $"{result.Rows} rows");
    }

    [Fact(Timeout = 60_000)]
    public async Task Copy_IntoAStoreThatHoldsSomething_IsRefusedAndChangesNothing()
    {
        await using var from = SqliteStore.Open(Path.Combine(folder, "from.db"), time);
        await FillAsync(from);
        var url = await fixture.Server.CreateDatabaseAsync("busy");
        await using var to = PostgresStore.Open(url, time);
        await to.CreateAsync(NewRollout("api-production-1", "v9"), [new RolloutEvent(RolloutEventType.Created, "already here")], default);

        var copy = () => StoreCopy.CopyAsync(from, to, default);
        (await copy.Should().ThrowAsync<StoreCopyRefusedException>()).Which.Message.Should().Be($"{to.Describe} is not empty (1 rollouts, 1 audit events, 0 tokens): copy into a new, empty store");
        (await to.ListAsync(new RolloutQuery(Limit: 10), default)).Should().ContainSingle().Which.Id.Should().Be("api-production-1");
    }

    private async Task FillAsync(SqliteStore store)
    {
        for (var i = 1; i <= 3; i++)
        {
            var rollout = NewRollout($"web-production-{i}", $"v{i}");
            await store.CreateAsync(rollout, [new RolloutEvent(RolloutEventType.Created, $"deploy {i}")], default, who: new AuditContext("alice", "release", "10.0.0.1"));
            time.Advance(TimeSpan.FromMinutes(5));
            await store.SaveAsync(rollout with { Revision = 1, Phase = RolloutPhase.Succeeded, UpdatedAt = time.GetUtcNow(), FinishedAt = time.GetUtcNow() }, 0, [new RolloutEvent(RolloutEventType.Succeeded, "done")], default);
        }

        await store.RecordApprovalAsync(new ApprovalRecord("web-production-1", "bob", ["sre"], ApprovalDecision.Approved, "ok <b>", time.GetUtcNow()), new AuditContext("bob"), default);
        await store.DeclareFreezeAsync(new DeclaredFreeze(0, "production", "month end", "alice", time.GetUtcNow(), time.GetUtcNow().AddDays(1)), default);
        await store.CreateTokenAsync(new ApiToken("t1", "ci", [Role.Deployer], ["release"], ["staging"], "hash", time.GetUtcNow(), "admin", null), new AuditContext("admin"), default);
    }

    private RolloutState NewRollout(string id, string version) =>
        RolloutEngine.Create(id, Service, "production", new Release(version, new Core.ValueList<KeyValuePair<string, string>>([new("FEATURE", "on")]), "abc", time.GetUtcNow().AddHours(-1)), RolloutKind.Deploy, [], time.GetUtcNow(), "alice");

    private static readonly Core.Manifest.ServiceSpec Service = Core.Manifest.ManifestLoader.LoadText("""
        version: 1
        services:
          web:
            process: { command: app, args: ["{port}"] }
            listen: 127.0.0.1:8080
            strategy: { canary: { steps: [{ setWeight: 50 }] } }
        """).Manifest!.Services[0];

    private static async Task<Dictionary<string, List<string>>> ColumnsAsync(DbConnection connection, string sql)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await using var reader = await command.ExecuteReaderAsync();
        var tables = new Dictionary<string, List<string>>();
        while (await reader.ReadAsync())
        {
            (tables.TryGetValue(reader.GetString(0), out var list) ? list : tables[reader.GetString(0)] = []).Add(reader.GetString(1));
        }

        return tables.ToDictionary(t => t.Key, t => t.Value.Order().ToList());
    }

    /// <summary>Every row of every table as text, in the order of its first column.</summary>
    private static async Task<Dictionary<string, List<string>>> DumpSqliteAsync(string path)
    {
        await using var connection = new SqliteConnection($"Data Source={path};Mode=ReadOnly;Pooling=False");
        await connection.OpenAsync();
        var dump = new Dictionary<string, List<string>>();
        foreach (var (table, columns, _) in StoreCopy.Tables)
        {
            await using var command = connection.CreateCommand();
            command.CommandText = $"SELECT {string.Join(", ", columns)} FROM {table} ORDER BY {columns[0]}";
            await using var reader = await command.ExecuteReaderAsync();
            var rows = dump[table] = [];
            while (await reader.ReadAsync())
            {
                rows.Add(string.Join(" | ", Enumerable.Range(0, columns.Length).Select(i => Convert.ToString(reader.GetValue(i), CultureInfo.InvariantCulture))));
            }
        }

        return dump;
    }
}
