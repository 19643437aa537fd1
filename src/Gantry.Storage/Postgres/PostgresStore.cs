using System.Data.Common;
using Gantry.Storage.Migrations;
using Gantry.Storage.Sql;
using Npgsql;

namespace Gantry.Storage.Postgres;

/// <summary>
/// The store on a PostgreSQL database, shared by every control plane that opens it. Writes are serialised by a
/// transaction-scoped advisory lock taken first in every write, so that event ids, queue ids and the audit chain
/// grow in commit order whichever process writes (a reader polling "after id N" never misses an event committed
/// later with a smaller id). Schema migrations run under a session advisory lock: replicas starting together
/// migrate once.
/// </summary>
public sealed class PostgresStore : SqlStore
{
    /// <summary>The advisory lock key of Gantry's writes (any fixed 64-bit number; "gantry" in ASCII).</summary>
    private const long WriteLock = 0x67616e747279;

    /// <summary>The advisory lock key of schema migrations.</summary>
    private const long MigrationLock = WriteLock + 1;

    private readonly NpgsqlDataSource source;

    private PostgresStore(NpgsqlDataSource source, string describe, Secrets.SecretBox? secrets, TimeProvider time)
        : base(secrets, time)
    {
        this.source = source;
        Describe = describe;
    }

    public override string Describe { get; }

    /// <summary>
    /// Connects to <paramref name="location"/> (<c>postgres://user:password@host:port/database</c> or an Npgsql
    /// connection string) and brings its schema up to date; a database from a newer Gantry is refused.
    /// </summary>
    /// <exception cref="InvalidOperationException">The database cannot be reached or refuses the connection: one line saying where and why.</exception>
    public static PostgresStore Open(string location, TimeProvider time, Secrets.SecretBox? secrets = null)
    {
        var builder = PostgresLocation.Parse(location);
        var describe = PostgresLocation.Describe(builder);
        var source = new NpgsqlDataSourceBuilder(builder.ConnectionString).Build();
        var store = new PostgresStore(source, describe, secrets, time);
        try
        {
            using var connection = store.Connect();
            using (var locked = connection.CreateCommand())
            {
                locked.CommandText = $"SELECT pg_advisory_lock({MigrationLock})";
                locked.ExecuteNonQuery();
            }

            Migrator.Apply(connection, Migrator.Postgres, time);
            using (var unlocked = connection.CreateCommand())
            {
                unlocked.CommandText = $"SELECT pg_advisory_unlock({MigrationLock})";
                unlocked.ExecuteNonQuery();
            }

            return store;
        }
        catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException or TimeoutException)
        {
            source.Dispose();
            // The reason is in the message: callers print the innermost exception's message as the one line.
            throw new InvalidOperationException($"{describe}: {PostgresLocation.Reason(ex)}");
        }
    }

    protected internal override DbConnection Connect() => source.OpenConnection();

    protected internal override async Task<DbTransaction> BeginWriteAsync(DbConnection connection, CancellationToken ct)
    {
        var transaction = await connection.BeginTransactionAsync(ct);
        await using var locked = connection.CreateCommand();
        locked.Transaction = transaction;
        locked.CommandText = $"SELECT pg_advisory_xact_lock({WriteLock})";
        await locked.ExecuteNonQueryAsync(ct);
        return transaction;
    }

    /// <summary>An identity column's sequence moved past the largest value copied (or back to its start when there is none).</summary>
    protected internal override async Task AfterExplicitIdsAsync(DbConnection connection, DbTransaction transaction, string table, string column, CancellationToken ct)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = $"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), COALESCE(MAX({column}), 1), MAX({column}) IS NOT NULL) FROM {table}";
        await command.ExecuteNonQueryAsync(ct);
    }

    /// <summary>23505: unique_violation.</summary>
    protected override bool IsUniqueViolation(DbException exception) => exception is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation };

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        await source.DisposeAsync();
    }
}
