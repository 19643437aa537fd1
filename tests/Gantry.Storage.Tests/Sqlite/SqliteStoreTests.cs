using Gantry.Core.Manifest;
using Gantry.Core.Rollouts;
using Gantry.Core.Strategies;
using Gantry.Storage.Migrations;
using Gantry.Storage.Sqlite;
using Gantry.Testing;
using Microsoft.Data.Sqlite;

namespace Gantry.Storage.Tests.Sqlite;

public sealed class SqliteStoreTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("gantry-store-").FullName;
    private readonly FakeTimeProvider time = new(TestClock.Start);

    private string DbPath => Path.Combine(folder, "gantry.db");

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(folder, recursive: true);
    }

    private static ServiceSpec Service()
    {
        var loaded = ManifestLoader.LoadText("""
            version: 1
            services:
              web:
                process: { command: app }
                listen: 127.0.0.1:8080
                replicas: 2
                strategy: { canary: { steps: [{ setWeight: 50 }] } }
            """);
        return loaded.Manifest!.Services[0];
    }

    private RolloutState NewRollout(string id, string version) =>
        RolloutEngine.Create(id, Service(), "production", new Release(version, [new("FEATURE", "on")], "abc123", time.GetUtcNow()), RolloutKind.Deploy, [], time.GetUtcNow(), "alice");

    [Fact(Timeout = 30_000)]
    public async Task Open_NewDatabase_AppliesEveryMigrationOnceInWalMode()
    {
        await using (SqliteStore.Open(DbPath, time))
        {
        }

        await using (SqliteStore.Open(DbPath, time))
        {
        }

        await using var connection = new SqliteConnection($"Data Source={DbPath}");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM schema_migrations";
        (await command.ExecuteScalarAsync()).Should().Be((long)Migrator.Sqlite.Count);
        command.CommandText = "PRAGMA journal_mode";
        (await command.ExecuteScalarAsync()).Should().Be("wal");
    }

    [Fact(Timeout = 30_000)]
    public async Task Open_DatabaseFromANewerGantry_RefusesWithTheReason()
    {
        await using (SqliteStore.Open(DbPath, time))
        {
        }

        await using (var connection = new SqliteConnection($"Data Source={DbPath}"))
        {
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = "INSERT INTO schema_migrations VALUES (999, 'future', 'x')";
            await command.ExecuteNonQueryAsync();
        }

        var open = () => SqliteStore.Open(DbPath, time);
        open.Should().Throw<InvalidOperationException>().WithMessage("the database is at schema version 999, newer than this Gantry knows*");
    }
}
