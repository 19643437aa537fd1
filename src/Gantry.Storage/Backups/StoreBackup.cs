using System.Globalization;
using Gantry.Core.Audit;
using Gantry.Storage.Sqlite;
using Microsoft.Data.Sqlite;

namespace Gantry.Storage.Backups;

/// <summary>What a backup holds, as checked by restoring it into a temporary store.</summary>
public sealed record BackupSummary(
    int SchemaVersion,
    long Rollouts,
    long Releases,
    long Incidents,
    long AuditEvents,
    DateTimeOffset? Oldest,
    DateTimeOffset? Newest,
    AuditVerification Audit)
{
    /// <summary>One line per fact, for the CLI.</summary>
    public IEnumerable<string> Lines()
    {
        yield return string.Create(CultureInfo.InvariantCulture, $"schema version {SchemaVersion}; {Rollouts} rollouts, {Releases} releases, {Incidents} incidents, {AuditEvents} audit events");
        if (Oldest is { } oldest && Newest is { } newest)
        {
            yield return $"rollouts from {oldest.UtcDateTime:yyyy-MM-dd HH:mm:ss} to {newest.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC";
        }

        yield return $"audit chain: {Audit.Message}";
    }
}

/// <summary>A backup that cannot be used: <see cref="Exception.Message"/> says why, in one line.</summary>
public sealed class BackupRefusedException(string message) : InvalidOperationException(message);

/// <summary>
/// Backups of the embedded store: SQLite's online backup (a consistent copy while the server writes), verification
/// by restoring into a temporary store (integrity check, schema version, the audit chain, what it holds), and
/// restore into an empty store. Secret values stay sealed in a backup: restoring elsewhere needs the same key.
/// </summary>
public static class StoreBackup
{
    /// <summary>The store's file in a data directory.</summary>
    public static string DatabaseOf(string dataDirectory) => Path.Combine(dataDirectory, "gantry.db");

    /// <summary>
    /// A backup of <paramref name="store"/> at <paramref name="to"/>: a SQLite store's online backup, or a PostgreSQL
    /// store exported from one snapshot into a SQLite file of the same schema (so that every backup is verified and
    /// restored the same way). The file appears whole or not at all, its owner's only.
    /// </summary>
    public static async Task CreateAsync(Sql.SqlStore store, string to, TimeProvider time, CancellationToken ct)
    {
        if (store is SqliteStore sqlite)
        {
            await Task.Run(() => Create(sqlite.Path, to), ct);
            return;
        }

        var folder = Path.GetDirectoryName(Path.GetFullPath(to))!;
        Directory.CreateDirectory(folder);
        var partial = Path.Combine(folder, $".{Path.GetFileName(to)}.{Guid.NewGuid():N}.partial");
        try
        {
            OwnerOnly(partial);
            await using (var file = SqliteStore.Open(partial, time))
            {
                await Transfer.StoreCopy.CopyAsync(store, file, ct);
            }

            SqliteConnection.ClearAllPools();
            File.Move(partial, to, overwrite: true);
        }
        finally
        {
            File.Delete(partial);
            File.Delete(partial + "-wal");
            File.Delete(partial + "-shm");
        }
    }

    /// <summary>Copies the database at <paramref name="database"/> to <paramref name="to"/> (its owner's only), consistent while others write; the file appears whole or not at all.</summary>
    public static void Create(string database, string to)
    {
        var folder = Path.GetDirectoryName(Path.GetFullPath(to))!;
        Directory.CreateDirectory(folder);
        var partial = Path.Combine(folder, $".{Path.GetFileName(to)}.{Guid.NewGuid():N}.partial");
        try
        {
            OwnerOnly(partial);
            using (var source = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = database, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString()))
            using (var destination = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = partial, Pooling = false }.ToString()))
            {
                source.Open();
                destination.Open();
                source.BackupDatabase(destination);
            }

            File.Move(partial, to, overwrite: true);
        }
        finally
        {
            File.Delete(partial);
        }
    }

    /// <summary>
    /// Restores <paramref name="file"/> into a temporary store and checks it: SQLite's integrity check, a Gantry store
    /// no newer than this one, the audit chain; says what it holds. A file that fails is refused with the reason.
    /// </summary>
    public static async Task<BackupSummary> VerifyAsync(string file, TimeProvider time, CancellationToken ct)
    {
        if (!File.Exists(file))
        {
            throw new BackupRefusedException($"{file} does not exist");
        }

        var folder = Directory.CreateTempSubdirectory("gantry-verify-").FullName;
        try
        {
            var copy = Path.Combine(folder, "gantry.db");
            File.Copy(file, copy);
            int schema;
            using (var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = copy, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString()))
            {
                try
                {
                    connection.Open();
                    var integrity = Scalar(connection, "PRAGMA integrity_check") as string;
                    if (integrity != "ok")
                    {
                        throw new BackupRefusedException($"{file} is damaged: {integrity}");
                    }

                    if (Convert.ToInt64(Scalar(connection, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"), CultureInfo.InvariantCulture) == 0)
                    {
                        throw new BackupRefusedException($"{file} is a SQLite database but not a Gantry store (no schema_migrations table)");
                    }

                    schema = Convert.ToInt32(Scalar(connection, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations"), CultureInfo.InvariantCulture);
                }
                catch (SqliteException ex)
                {
                    throw new BackupRefusedException($"{file} is not a usable Gantry backup: {ex.Message.TrimEnd('.')}");
                }
            }

            await using var store = OpenStore(copy, time, file);
            var audit = await store.VerifyAuditAsync(ct);
            var facts = store.Facts();
            return new BackupSummary(schema, facts.Rollouts, facts.Releases, facts.Incidents, facts.AuditEvents, facts.Oldest, facts.Newest, audit);
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>
    /// Restores a verified backup as the store of <paramref name="dataDirectory"/>, which must have none yet or an
    /// empty one, and records the restore in its audit trail. Refused (nothing changed) when the backup fails
    /// verification or its audit chain does not hold.
    /// </summary>
    public static async Task<BackupSummary> RestoreAsync(string file, string dataDirectory, string actor, TimeProvider time, CancellationToken ct)
    {
        var summary = await VerifyAsync(file, time, ct);
        if (!summary.Audit.Intact)
        {
            throw new BackupRefusedException($"{file}'s audit chain does not hold: {summary.Audit.Message}");
        }

        var database = DatabaseOf(dataDirectory);
        if (File.Exists(database))
        {
            // Read only: a store found here is neither migrated nor checkpointed by being looked at.
            var (rollouts, events) = CountsOf(database);
            if (rollouts > 0 || events > 0)
            {
                throw new BackupRefusedException(string.Create(CultureInfo.InvariantCulture, $"{database} is not empty ({rollouts} rollouts, {events} audit events): restore into a new data directory"));
            }

            SqliteConnection.ClearAllPools();
            foreach (var leftover in new[] { database, database + "-wal", database + "-shm" })
            {
                File.Delete(leftover);
            }
        }

        Directory.CreateDirectory(dataDirectory);
        Create(file, database);
        await using (var restored = OpenStore(database, time, database))
        {
            await restored.RecordAsync(AuditEntries.StoreRestored(Path.GetFileName(file), summary.Rollouts, summary.AuditEvents), time.GetUtcNow(), new AuditContext(actor), ct);
        }

        SqliteConnection.ClearAllPools();
        return summary;
    }

    /// <summary>
    /// Restores a verified backup into <paramref name="store"/> (a PostgreSQL store, say), which must be empty, and
    /// records the restore in its audit trail. Refused (nothing changed) as <see cref="RestoreAsync"/> refuses.
    /// </summary>
    public static async Task<BackupSummary> RestoreIntoAsync(string file, Sql.SqlStore store, string actor, TimeProvider time, CancellationToken ct)
    {
        var summary = await VerifyAsync(file, time, ct);
        if (!summary.Audit.Intact)
        {
            throw new BackupRefusedException($"{file}'s audit chain does not hold: {summary.Audit.Message}");
        }

        var folder = Directory.CreateTempSubdirectory("gantry-restore-").FullName;
        try
        {
            var copy = Path.Combine(folder, "gantry.db");
            File.Copy(file, copy);
            await using (var from = OpenStore(copy, time, file))
            {
                await Transfer.StoreCopy.CopyAsync(from, store, ct);
            }

            await store.RecordAsync(AuditEntries.StoreRestored(Path.GetFileName(file), summary.Rollouts, summary.AuditEvents), time.GetUtcNow(), new AuditContext(actor), ct);
            return summary;
        }
        catch (Transfer.StoreCopyRefusedException ex)
        {
            throw new BackupRefusedException(ex.Message);
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            Directory.Delete(folder, recursive: true);
        }
    }

    private static SqliteStore OpenStore(string path, TimeProvider time, string shown)
    {
        try
        {
            return SqliteStore.Open(path, time);
        }
        catch (InvalidOperationException ex)
        {
            throw new BackupRefusedException($"{shown}: {ex.Message}");
        }
    }

    /// <summary>How many rollouts and audit events a store holds (none when it has no tables yet), read without changing it.</summary>
    private static (long Rollouts, long AuditEvents) CountsOf(string database)
    {
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = database, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        connection.Open();
        long Count(string table) =>
            Convert.ToInt64(Scalar(connection, $"SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '{table}'"), CultureInfo.InvariantCulture) == 0
                ? 0
                : Convert.ToInt64(Scalar(connection, $"SELECT COUNT(*) FROM {table}"), CultureInfo.InvariantCulture);
        return (Count("rollouts"), Count("audit"));
    }

    private static object? Scalar(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }

    /// <summary>Creates the file empty with mode 0600 before anything is written to it.</summary>
    private static void OwnerOnly(string path)
    {
        using (File.Create(path))
        {
        }

        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
    }
}
