using Gantry.Core.Audit;
using Gantry.Core.Rollouts;
using Gantry.Core.Strategies;
using Gantry.Storage.Migrations;
using Gantry.Storage.Postgres;
using Gantry.Testing;

namespace Gantry.Storage.Tests.Postgres;

/// <summary>What only a shared database asks of the store: writers in several processes, schema versions, where it is and whether it answers.</summary>
[Collection("postgres")]
public sealed class PostgresStoreTests(PostgresFixture fixture)
{
    private readonly FakeTimeProvider time = new(TestClock.Start);
    private readonly PostgresScratch scratch = new(fixture);

    [Fact(Timeout = 120_000)]
    public async Task TwoStoresOnOneDatabase_WritingAtOnce_KeepOneAuditChainAndEventIdsInCommitOrder()
    {
        // Two control planes on one database: each has its own connections and its own in-process lock, so only
        // the database serialises them.
        await using var first = scratch.Open(time);
        await using var second = scratch.Open(time);
        async Task WriteAsync(PostgresStore store, string service)
        {
            for (var i = 1; i <= 40; i++)
            {
                var rollout = RolloutEngine.Create($"{service}-production-{i}", Service(service), "production", new Release($"v{i}", new Core.ValueList<KeyValuePair<string, string>>([]), null, time.GetUtcNow()), RolloutKind.Deploy, [], time.GetUtcNow(), "alice");
                (await store.CreateAsync(rollout, [new RolloutEvent(RolloutEventType.Created, $"deploy {i}")], default)).Should().Be(CommitOutcome.Committed);
                (await store.SaveAsync(rollout with { Revision = 1, Phase = RolloutPhase.Succeeded }, 0, [new RolloutEvent(RolloutEventType.Succeeded, "done")], default)).Should().Be(CommitOutcome.Committed);
                await store.RecordAsync(AuditEntries.RouterRestarted(i, i + 1, TimeSpan.FromMilliseconds(i), i), time.GetUtcNow(), AuditContext.System, default);
            }
        }

        await Task.WhenAll(Task.Run(() => WriteAsync(first, "web")), Task.Run(() => WriteAsync(second, "api")));

        var verification = await first.VerifyAuditAsync(default);
        verification.Intact.Should().BeTrue(verification.Message);
        verification.Checked.Should().Be(2 * 40 * 3);
        var events = await second.EventsAsync(0, null, 1000, default);
        events.Should().HaveCount(2 * 40 * 2);
        events.Select(e => e.Id).Should().BeInAscendingOrder().And.OnlyHaveUniqueItems();
        foreach (var rollout in events.GroupBy(e => e.RolloutId))
        {
            rollout.Select(e => e.Seq).Should().Equal(1, 2);
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task Open_DatabaseOfANewerGantry_IsRefusedAndLeftAsItIs()
    {
        var url = await fixture.Server.CreateDatabaseAsync("newer");
        await using (PostgresStore.Open(url, time))
        {
        }

        var database = url[(url.LastIndexOf('/') + 1)..];
        await fixture.Server.QueryAsync(database, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', 'now')");
        var open = () => PostgresStore.Open(url, time);
        open.Should().Throw<InvalidOperationException>().WithMessage($"*schema version 999, newer than this Gantry knows ({Migrator.Postgres[^1].Version}): use a newer Gantry");
        (await fixture.Server.QueryAsync(database, "SELECT COUNT(*) FROM schema_migrations")).Should().Be((Migrator.Postgres.Count + 1).ToString(System.Globalization.CultureInfo.InvariantCulture), "every migration and the one written by hand");
    }

    [Fact(Timeout = 60_000)]
    public void Open_NothingListening_IsOneLineSayingWhereAndWhy()
    {
        var port = FreePort.Next();
        var open = () => PostgresStore.Open($"postgres://gantry:hunter2@127.0.0.1:{port}/gantry", time);
        var error = open.Should().Throw<InvalidOperationException>().Which;
        error.Message.Should().Be($"PostgreSQL 127.0.0.1:{port}/gantry: cannot be reached (connection refused)");
        error.Message.Should().NotContain("hunter2");
    }

    [Theory(Timeout = 10_000)]
    [InlineData("postgres://alice:p%40ss@db.example:6543/gantry?sslmode=require", "db.example", 6543, "gantry", "alice", "p@ss")]
    [InlineData("postgresql://db.example/gantry", "db.example", 5432, "gantry", null, null)]
    [InlineData("Host=db.example;Port=5433;Database=gantry;Username=bob", "db.example", 5433, "gantry", "bob", null)]
    public void Parse_UrlsAndConnectionStrings_GiveHostPortDatabaseAndUser(string location, string host, int port, string database, string? user, string? password)
    {
        var builder = PostgresLocation.Parse(location);
        (builder.Host, builder.Port, builder.Database, builder.Username, builder.Password).Should().Be((host, port, database, user, password));
        PostgresLocation.Describe(builder).Should().Be($"PostgreSQL {host}:{port}/{database}");
    }

    [Theory(Timeout = 10_000)]
    [InlineData("postgres://db.example", "'postgres://db.example' is not a PostgreSQL URL: expected postgres://user:password@host:port/database")]
    [InlineData("postgres://alice:secret@db.example:5432/", "'postgres://alice:***@db.example:5432/' is not a PostgreSQL URL: expected postgres://user:password@host:port/database")]
    public void Parse_Malformed_SaysWhatIsExpectedWithoutThePassword(string location, string message)
    {
        var parse = () => PostgresLocation.Parse(location);
        parse.Should().Throw<ArgumentException>().WithMessage(message);
    }

    private static Core.Manifest.ServiceSpec Service(string name) => Core.Manifest.ManifestLoader.LoadText($$"""
        version: 1
        services:
          {{name}}:
            process: { command: app, args: ["{port}"] }
            listen: 127.0.0.1:8080
            strategy: { canary: { steps: [{ setWeight: 50 }] } }
        """).Manifest!.Services[0];
}
