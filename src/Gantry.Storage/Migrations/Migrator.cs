using System.Data.Common;
using System.Globalization;

namespace Gantry.Storage.Migrations;

/// <summary>A schema change: its number, its name and its SQL, from the embedded <c>NNNN_name.sql</c> files.</summary>
public sealed record Migration(int Version, string Name, string Sql);

/// <summary>
/// Applies the schema migrations a database has not seen yet, each in its own transaction, in order. Each database
/// kind has its own files (<c>Migrations/Sqlite</c>, <c>Migrations/Postgres</c>) numbered alike: one number is one
/// schema, whatever keeps it. PostgreSQL starts at the schema SQLite had reached when it came (its first file is that
/// whole schema); every later change is written for both.
/// </summary>
public static class Migrator
{
    public static IReadOnlyList<Migration> Sqlite { get; } = Load("Sqlite");

    public static IReadOnlyList<Migration> Postgres { get; } = Load("Postgres");

    private static List<Migration> Load(string kind)
    {
        var assembly = typeof(Migrator).Assembly;
        var folder = $".Migrations.{kind}.";
        return [.. assembly.GetManifestResourceNames()
            .Where(n => n.EndsWith(".sql", StringComparison.Ordinal) && n.Contains(folder, StringComparison.Ordinal))
            .Select(n =>
            {
                var file = n[(n.IndexOf(folder, StringComparison.Ordinal) + folder.Length)..^4];
                var version = int.Parse(file[..4], CultureInfo.InvariantCulture);
                using var reader = new StreamReader(assembly.GetManifestResourceStream(n)!);
                return new Migration(version, file[5..], reader.ReadToEnd());
            })
            .OrderBy(m => m.Version)];
    }

    /// <summary>The schema version a database is at (0: none yet).</summary>
    public static int Current(DbConnection connection)
    {
        Execute(connection, null, "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)");
        using var read = connection.CreateCommand();
        read.CommandText = "SELECT COALESCE(MAX(version), 0) FROM schema_migrations";
        return Convert.ToInt32(read.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    /// <summary>Brings the database to the newest schema of <paramref name="all"/>; returns the migrations applied.</summary>
    public static IReadOnlyList<Migration> Apply(DbConnection connection, IReadOnlyList<Migration> all, TimeProvider time)
    {
        var current = Current(connection);
        if (current > all[^1].Version)
        {
            throw new InvalidOperationException($"the database is at schema version {current}, newer than this Gantry knows ({all[^1].Version}): use a newer Gantry");
        }

        var applied = new List<Migration>();
        foreach (var migration in all.Where(m => m.Version > current))
        {
            using var transaction = connection.BeginTransaction();
            Execute(connection, transaction, migration.Sql);
            using var record = connection.CreateCommand();
            record.Transaction = transaction;
            record.CommandText = "INSERT INTO schema_migrations (version, name, applied_at) VALUES (@v, @n, @t)";
            foreach (var (name, value) in new (string, object)[] { ("@v", (long)migration.Version), ("@n", migration.Name), ("@t", time.GetUtcNow().ToString("O", CultureInfo.InvariantCulture)) })
            {
                var parameter = record.CreateParameter();
                parameter.ParameterName = name;
                parameter.Value = value;
                record.Parameters.Add(parameter);
            }

            record.ExecuteNonQuery();
            transaction.Commit();
            applied.Add(migration);
        }

        return applied;
    }

    private static void Execute(DbConnection connection, DbTransaction? transaction, string sql)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
