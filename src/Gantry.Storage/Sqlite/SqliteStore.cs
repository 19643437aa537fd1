using System.Data.Common;
using Gantry.Storage.Migrations;
using Gantry.Storage.Sql;
using Microsoft.Data.Sqlite;

namespace Gantry.Storage.Sqlite;

/// <summary>The embedded store: one SQLite file in write-ahead-log mode, written by one process.</summary>
public sealed partial class SqliteStore : SqlStore
{
    private readonly string connectionString;

    private SqliteStore(string path, string connectionString, Secrets.SecretBox? secrets, TimeProvider time)
        : base(secrets, time)
    {
        Path = path;
        this.connectionString = connectionString;
    }

    /// <summary>
    /// Opens (or creates) the database at <paramref name="path"/> and applies pending migrations. The file and its
    /// write-ahead log are its owner's only (0600); with <paramref name="secrets"/>, secret values are encrypted at rest.
    /// </summary>
    public static SqliteStore Open(string path, TimeProvider time, Secrets.SecretBox? secrets = null)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!);
        OwnerOnly(path);
        var builder = new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadWriteCreate, Pooling = true, DefaultTimeout = 30 };
        var store = new SqliteStore(System.IO.Path.GetFullPath(path), builder.ToString(), secrets, time);
        using var connection = store.Connect();
        using (var pragma = connection.CreateCommand())
        {
            pragma.CommandText = "PRAGMA journal_mode = WAL;";
            pragma.ExecuteNonQuery();
        }

        Migrator.Apply(connection, Migrator.Sqlite, time);
        return store;
    }

    /// <summary>The database file.</summary>
    public string Path { get; }

    public override string Describe => "SQLite " + Path;

    protected internal override DbConnection Connect()
    {
        var connection = new SqliteConnection(connectionString);
        connection.Open();
        using var pragma = connection.CreateCommand();
        pragma.CommandText = "PRAGMA busy_timeout = 10000; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;";
        pragma.ExecuteNonQuery();
        return connection;
    }

    /// <summary>A deferred transaction: in WAL mode its first read fixes the snapshot, and it takes no write lock.</summary>
    protected internal override Task<DbTransaction> BeginSnapshotAsync(DbConnection connection, CancellationToken ct) =>
        Task.FromResult<DbTransaction>(((SqliteConnection)connection).BeginTransaction(deferred: true));

    /// <summary>19: SQLITE_CONSTRAINT (a unique index).</summary>
    protected override bool IsUniqueViolation(DbException exception) => exception is SqliteException { SqliteErrorCode: 19 };

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        SqliteConnection.ClearAllPools();
    }
}
