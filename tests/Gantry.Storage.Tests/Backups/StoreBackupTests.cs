using Gantry.Core.Audit;
using Gantry.Core.Manifest;
using Gantry.Core.Rollouts;
using Gantry.Core.Strategies;
using Gantry.Storage.Backups;
using Gantry.Storage.Sql;
using Gantry.Storage.Sqlite;
using Gantry.Testing;
using Microsoft.Data.Sqlite;

namespace Gantry.Storage.Tests.Backups;

/// <summary>Backups of the store: written while it is open, verified by restoring into a temporary store, refused when damaged, restored into an empty store only.</summary>
public sealed class StoreBackupTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("gantry-backup-").FullName;
    private readonly FakeTimeProvider time = new(TestClock.Start);

    private string DataDir => Path.Combine(folder, "data");

    private string Backup => Path.Combine(folder, "backups", "one.db");

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(folder, recursive: true);
    }

    private async Task<SqliteStore> StoreWithHistoryAsync(int rollouts = 3)
    {
        var store = SqliteStore.Open(StoreBackup.DatabaseOf(DataDir), time);
        var service = ManifestLoader.LoadText("""
            version: 1
            services:
              web: { process: { command: app }, listen: 127.0.0.1:8080, strategy: { canary: { steps: [{ setWeight: 50 }] } } }
            """).Manifest!.Services[0];
        for (var i = 1; i <= rollouts; i++)
        {
            var state = RolloutEngine.Create($"web-production-{i}", service, "production", Release.Of($"{i}.0"), RolloutKind.Deploy, [], time.GetUtcNow(), "alice");
            (await store.CreateAsync(state, [new RolloutEvent(RolloutEventType.Created, $"deploy of web {i}.0")], default, who: new AuditContext("alice"))).Should().Be(CommitOutcome.Committed);
            time.Advance(TimeSpan.FromMinutes(1));
            var done = state with { Phase = RolloutPhase.Succeeded, Revision = state.Revision + 1, UpdatedAt = time.GetUtcNow(), FinishedAt = time.GetUtcNow() };
            (await store.SaveAsync(done, state.Revision, [new RolloutEvent(RolloutEventType.Succeeded, "done")], default)).Should().Be(CommitOutcome.Committed);
        }

        return store;
    }

    private static void Execute(string database, string sql)
    {
        using var connection = new SqliteConnection($"Data Source={database};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    [Fact(Timeout = 30_000)]
    public async Task Backup_OfAnOpenStore_VerifiesAndSaysWhatItHolds_OwnerOnly()
    {
        await using var store = await StoreWithHistoryAsync();
        StoreBackup.Create(store.Path, Backup);

        var summary = await StoreBackup.VerifyAsync(Backup, time, default);
        (summary.Rollouts, summary.Releases, summary.AuditEvents).Should().Be((3, 3, 6));
        summary.Audit.Intact.Should().BeTrue();
        summary.Oldest.Should().Be(TestClock.Start);
        summary.Newest.Should().Be(TestClock.Start.AddMinutes(2));
        summary.Lines().Should().Contain($"schema version {Migrations.Migrator.Sqlite[^1].Version}; 3 rollouts, 3 releases, 0 incidents, 6 audit events");
        if (!OperatingSystem.IsWindows())
        {
            File.GetUnixFileMode(Backup).Should().Be(UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        Directory.GetFiles(Path.GetDirectoryName(Backup)!).Should().ContainSingle("no partial file is left");
    }

    [Fact(Timeout = 30_000)]
    public async Task Verify_RefusesADamagedFile_AFileThatIsNoStore_AndANewerSchema_WithTheReason()
    {
        await using (var store = await StoreWithHistoryAsync())
        {
            StoreBackup.Create(store.Path, Backup);
        }

        var bytes = await File.ReadAllBytesAsync(Backup);
        var damaged = Path.Combine(folder, "damaged.db");
        await File.WriteAllBytesAsync(damaged, [.. bytes.Take(bytes.Length / 2)]);
        (await FluentActions.Awaiting(() => StoreBackup.VerifyAsync(damaged, time, default)).Should().ThrowAsync<BackupRefusedException>())
            .Which.Message.Should().StartWith(damaged).And.MatchRegex("is (damaged|not a usable Gantry backup)");

        var text = Path.Combine(folder, "notes.db");
        await File.WriteAllTextAsync(text, "not a database at all, just some text that is long enough to look like a header block");
        (await FluentActions.Awaiting(() => StoreBackup.VerifyAsync(text, time, default)).Should().ThrowAsync<BackupRefusedException>())
            .Which.Message.Should().Be($"{text} is not a usable Gantry backup: SQLite Error 26: 'file is not a database'");

        var other = Path.Combine(folder, "other.db");
        Execute(other, "CREATE TABLE things (id INTEGER)");
        (await FluentActions.Awaiting(() => StoreBackup.VerifyAsync(other, time, default)).Should().ThrowAsync<BackupRefusedException>())
            .Which.Message.Should().Be($"{other} is a SQLite database but not a Gantry store (no schema_migrations table)");

        Execute(Backup, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', '2030-01-01')");
        (await FluentActions.Awaiting(() => StoreBackup.VerifyAsync(Backup, time, default)).Should().ThrowAsync<BackupRefusedException>())
            .Which.Message.Should().Contain("newer than this Gantry knows");
    }

    [Fact(Timeout = 30_000)]
    public async Task Restore_IntoAnEmptyStore_KeepsTheHistoryAndRecordsItself_ButNeverOverAStoreWithData()
    {
        await using (var store = await StoreWithHistoryAsync())
        {
            StoreBackup.Create(store.Path, Backup);
        }

        var elsewhere = Path.Combine(folder, "elsewhere");
        var summary = await StoreBackup.RestoreAsync(Backup, elsewhere, "root (gantry restore)", time, default);
        summary.Rollouts.Should().Be(3);
        await using (var restored = SqliteStore.Open(StoreBackup.DatabaseOf(elsewhere), time))
        {
            (await restored.ListAsync(new RolloutQuery(Limit: 10), default)).Select(r => r.Id).Should().BeEquivalentTo(["web-production-1", "web-production-2", "web-production-3"]);
            var audit = await restored.AuditAsync(new AuditQuery("store"), default);
            audit.Should().ContainSingle().Which.Should().Match<AuditEvent>(e => e.Action == "store.restored" && e.Actor == "root (gantry restore)" && e.Detail == "restored from backup one.db (3 rollouts, 6 audit events)");
            (await restored.VerifyAuditAsync(default)).Intact.Should().BeTrue("the restore continues the backup's chain");
        }

        (await FluentActions.Awaiting(() => StoreBackup.RestoreAsync(Backup, DataDir, "root", time, default)).Should().ThrowAsync<BackupRefusedException>())
            .Which.Message.Should().Be($"{StoreBackup.DatabaseOf(DataDir)} is not empty (3 rollouts, 6 audit events): restore into a new data directory");
        await using (var untouched = SqliteStore.Open(StoreBackup.DatabaseOf(DataDir), time))
        {
            untouched.Facts().Should().Be(new StoreFacts(3, 3, 0, 6, TestClock.Start, TestClock.Start.AddMinutes(2)), "nothing was changed");
            (await untouched.AuditAsync(new AuditQuery("store"), default)).Should().BeEmpty("no restore was recorded");
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task Restore_RefusesABackupWhoseAuditChainWasTamperedWith()
    {
        await using (var store = await StoreWithHistoryAsync())
        {
            StoreBackup.Create(store.Path, Backup);
        }

        Execute(Backup, "UPDATE audit SET actor = 'mallory' WHERE seq = 2");
        (await StoreBackup.VerifyAsync(Backup, time, default)).Audit.Intact.Should().BeFalse();
        var target = Path.Combine(folder, "target");
        (await FluentActions.Awaiting(() => StoreBackup.RestoreAsync(Backup, target, "root", time, default)).Should().ThrowAsync<BackupRefusedException>())
            .Which.Message.Should().StartWith($"{Backup}'s audit chain does not hold: ");
        File.Exists(StoreBackup.DatabaseOf(target)).Should().BeFalse("nothing was restored");
    }
}
