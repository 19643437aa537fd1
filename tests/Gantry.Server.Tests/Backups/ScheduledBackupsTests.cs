using Gantry.Core.Audit;
using Gantry.Server.Backups;
using Gantry.Storage.Backups;
using Gantry.Storage.Sqlite;
using Gantry.Testing;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gantry.Server.Tests.Backups;

/// <summary>The server's own backups on a fake clock: one per interval, audited as Gantry's, those past their keep removed.</summary>
public sealed class ScheduledBackupsTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("gantry-scheduled-").FullName;
    private readonly FakeTimeProvider time = new(TestClock.Start);

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(folder, recursive: true);
    }

    [Fact(Timeout = 60_000)]
    public async Task EveryInterval_ABackupIsWrittenAndAudited_AndOnlyThoseWithinKeepAreLeft()
    {
        await using var store = SqliteStore.Open(Path.Combine(folder, "data", "gantry.db"), time);
        var schedule = new BackupSchedule(Path.Combine(folder, "backups"), TimeSpan.FromDays(1), TimeSpan.FromDays(30));
        var backups = new ScheduledBackups(new BackupService(store, store, time), schedule, time, NullLogger<ScheduledBackups>.Instance);

        await backups.StartAsync(CancellationToken.None);
        try
        {
            time.Advance(TimeSpan.FromDays(1));
            var first = Path.Combine(schedule.Folder, BackupSchedule.NameAt(TestClock.Start.AddDays(1)));
            await Wait.UntilAsync(() => Task.FromResult(File.Exists(first)), TimeSpan.FromSeconds(20), "the first scheduled backup");
        }
        finally
        {
            await backups.StopAsync(CancellationToken.None);
        }

        var audit = await store.AuditAsync(new AuditQuery("store"), default);
        audit.Should().ContainSingle().Which.Should().Match<AuditEvent>(e => e.Action == "store.backup" && e.Actor == "gantry" && e.Detail.StartsWith($"scheduled backup {Path.Combine(schedule.Folder, "gantry-")}", StringComparison.Ordinal));
        (await StoreBackup.VerifyAsync(Path.Combine(schedule.Folder, BackupSchedule.NameAt(TestClock.Start.AddDays(1))), time, default)).Audit.Intact.Should().BeTrue();

        // Thirty-five more days, one backup each: those more than thirty days old are removed; other files are left alone.
        await File.WriteAllTextAsync(Path.Combine(schedule.Folder, "notes.txt"), "kept");
        for (var day = 2; day <= 36; day++)
        {
            time.Advance(TimeSpan.FromDays(1));
            await backups.RunOnceAsync(default);
        }

        var left = Directory.GetFiles(schedule.Folder).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
        left.Should().HaveCount(32).And.Contain("notes.txt");
        left.Where(f => f!.EndsWith(".db", StringComparison.Ordinal)).Should().Equal(Enumerable.Range(6, 31).Select(d => BackupSchedule.NameAt(TestClock.Start.AddDays(d))),
            "the backups of the last thirty days (and the one exactly thirty days old)");
    }

    [Fact(Timeout = 10_000)]
    public void TimeOf_ReadsOnlyTheScheduleSNames()
    {
        BackupSchedule.TimeOf(BackupSchedule.NameAt(TestClock.Start)).Should().Be(TestClock.Start);
        BackupSchedule.TimeOf("gantry-notadate.db").Should().BeNull();
        BackupSchedule.TimeOf("nightly.db").Should().BeNull();
    }
}
