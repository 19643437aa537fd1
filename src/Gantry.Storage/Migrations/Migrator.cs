using System.Globalization;
using Microsoft.Data.Sqlite;

namespace Gantry.Storage.Migrations;

/// <summary>A schema change: its number, its name and its SQL, from the embedded <c>NNNN_name.sql</c> files.</summary>
public sealed record Migration(int Version, string Name, string Sql);

/// <summary>Applies the schema migrations a database has not seen yet, each in its own transaction, in order.</summary>
public static class Migrator
{
    public static IReadOnlyList<Migration> All { get; } = Load();

    private static List<Migration> Load()
    {
        var assembly = typeof(Migrator).Assembly;
        return [.. assembly.GetManifestResourceNames()
            .Where(n => n.EndsWith(".sql", StringComparison.Ordinal))
            .Select(n =>
            {
                var file = n[(n.IndexOf(".Migrations.", StringComparison.Ordinal) + ".Migrations.".Length)..^4];
                var version = int.Parse(file[..4], CultureInfo.InvariantCulture);
                using var reader = new StreamReader(assembly.GetManifestResourceStream(n)!);
                return new Migration(version, file[5..], reader.ReadToEnd());
            })
            .OrderBy(m => m.Version)];
    }

    /// <summary>Brings the database to the newest schema; returns the migrations applied.</summary>
    public static IReadOnlyList<Migration> Apply(SqliteConnection connection, TimeProvider time)
    {
        Execute(connection, null, "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)");
        using var read = connection.CreateCommand();
        read.CommandText = "SELECT COALESCE(MAX(version), 0) FROM schema_migrations";
        var current = Convert.ToInt32(read.ExecuteScalar(), CultureInfo.InvariantCulture);
        if (current > All[^1].Version)
        {
            throw new InvalidOperationException($"the database is at schema version {current}, newer than this Gantry knows ({All[^1].Version}): use a newer Gantry");
        }

        var applied = new List<Migration>();
        foreach (var migration in All.Where(m => m.Version > current))
        {
            using var transaction = connection.BeginTransaction();
            Execute(connection, transaction, migration.Sql);
            using var record = connection.CreateCommand();
            record.Transaction = transaction;
            record.CommandText = "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($v, $n, $t)";
            record.Parameters.AddWithValue("$v", migration.Version);
            record.Parameters.AddWithValue("$n", migration.Name);
            record.Parameters.AddWithValue("$t", time.GetUtcNow().ToString("O", CultureInfo.InvariantCulture));
            record.ExecuteNonQuery();
            transaction.Commit();
            applied.Add(migration);
        }

        return applied;
    }

    private static void Execute(SqliteConnection connection, SqliteTransaction? transaction, string sql)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
