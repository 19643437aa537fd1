using System.Security.Cryptography;
using Gantry.Core.Manifest;
using Gantry.Core.Rollouts;
using Gantry.Core.Strategies;
using Gantry.Storage.Secrets;
using Gantry.Storage.Sqlite;
using Gantry.Testing;
using Microsoft.Data.Sqlite;

namespace Gantry.Storage.Tests.Sqlite;

/// <summary>Secret values are encrypted in every table that keeps a release; the database and its log are the owner's only.</summary>
public sealed class SecretsAtRestTests : IDisposable
{
    private const string Password = "hunter2-at-rest-5d1c";
    private readonly string folder = Directory.CreateTempSubdirectory("gantry-secrets-").FullName;
    private readonly FakeTimeProvider time = new(TestClock.Start);

    private string DbPath => Path.Combine(folder, "gantry.db");

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(folder, recursive: true);
    }

    private RolloutState Rollout(string id, string version)
    {
        var service = ManifestLoader.LoadText("""
            version: 1
            services:
              web:
                process: { command: app }
                listen: 127.0.0.1:8080
                strategy: { canary: { steps: [{ setWeight: 50 }] } }
            """).Manifest!.Services[0];
        var release = new Release(version, [new("COLOR", "blue"), new("DB_PASSWORD", Password)]) { Secret = ["DB_PASSWORD"] };
        return RolloutEngine.Create(id, service, "production", release, RolloutKind.Deploy, [], time.GetUtcNow(), "alice");
    }

    private async Task<string> RawAsync(string sql)
    {
        await using var connection = new SqliteConnection($"Data Source={DbPath}");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return string.Join("\n", await ReadAllAsync(command));
    }

    private static async Task<List<string>> ReadAllAsync(SqliteCommand command)
    {
        var rows = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            rows.Add(reader.GetString(0));
        }

        return rows;
    }

    [Fact(Timeout = 30_000)]
    public async Task Store_WithAKey_EncryptsSecretValuesEverywhereAndReadsThemBack()
    {
        var box = SecretBox.ForDataDirectory(folder);
        await using (var store = SqliteStore.Open(DbPath, time, box))
        {
            (await store.CreateAsync(Rollout("web-production-1", "v1"), [new RolloutEvent(RolloutEventType.Created, "deploy")], default)).Should().Be(CommitOutcome.Committed);
            await store.EnqueueAsync(new QueuedDeploy(0, "web", "production", Rollout("x", "v2").Release, "alice", time.GetUtcNow()), default);

            (await store.GetAsync("web-production-1", default))!.Release.Variables.Should().Contain(new KeyValuePair<string, string>("DB_PASSWORD", Password));
            (await store.ReleasesAsync("web", default)).Single().Release.Variables.Should().Contain(new KeyValuePair<string, string>("DB_PASSWORD", Password));
            (await store.QueuedAsync("web", "production", default)).Single().Release.Variables.Should().Contain(new KeyValuePair<string, string>("DB_PASSWORD", Password));
        }

        var raw = await RawAsync("SELECT state FROM rollouts UNION ALL SELECT release FROM releases UNION ALL SELECT release FROM queue");
        raw.Should().NotContain(Password).And.Contain("enc:v1:").And.Contain("\"blue\"", "only secret values are sealed");
        File.ReadAllBytes(DbPath).AsSpan().IndexOf(System.Text.Encoding.UTF8.GetBytes(Password)).Should().Be(-1);
        if (File.Exists(DbPath + "-wal"))
        {
            File.ReadAllBytes(DbPath + "-wal").AsSpan().IndexOf(System.Text.Encoding.UTF8.GetBytes(Password)).Should().Be(-1);
        }

        // Another key cannot read them, and says so.
        SqliteConnection.ClearAllPools();
        await using var other = SqliteStore.Open(DbPath, time, new SecretBox(RandomNumberGenerator.GetBytes(32)));
        var read = async () => await other.GetAsync("web-production-1", default);
        (await read.Should().ThrowAsync<InvalidOperationException>()).WithMessage("a stored secret could not be decrypted*");
    }

    [Fact(Timeout = 30_000)]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task Files_DatabaseLogAndKey_AreTheOwnersOnly()
    {
        File.WriteAllText(DbPath, string.Empty);
        File.SetUnixFileMode(DbPath, (UnixFileMode)0b110_100_100);
        var box = SecretBox.ForDataDirectory(folder);
        await using (var store = SqliteStore.Open(DbPath, time, box))
        {
            await store.CreateAsync(Rollout("web-production-1", "v1"), [], default);
            File.GetUnixFileMode(DbPath).Should().Be(UnixFileMode.UserRead | UnixFileMode.UserWrite, "a database that pre-existed as 0644 is made 0600");

            // A connection of our own keeps the write-ahead log in place while it is looked at (pools are cleared by other tests).
            await using var held = new SqliteConnection($"Data Source={DbPath};Pooling=False");
            await held.OpenAsync();
            await using (var write = held.CreateCommand())
            {
                write.CommandText = "CREATE TABLE IF NOT EXISTS scratch (x INTEGER); INSERT INTO scratch VALUES (1);";
                await write.ExecuteNonQueryAsync();
            }

            File.GetUnixFileMode(DbPath + "-wal").Should().Be(UnixFileMode.UserRead | UnixFileMode.UserWrite, "SQLite gives its log the database's mode");
        }

        var key = Path.Combine(folder, SecretBox.KeyFile);
        File.GetUnixFileMode(key).Should().Be(UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.SetUnixFileMode(key, (UnixFileMode)0b110_100_100);
        var open = () => SecretBox.ForDataDirectory(folder);
        open.Should().Throw<InvalidOperationException>().WithMessage($"{key} may be read by others: run 'chmod 600 {key}'");
    }

    [Fact(Timeout = 30_000)]
    public void Key_FromTheEnvironment_IsUsedAndCheckedForShape()
    {
        var sealedText = new SecretBox(new byte[32]).Seal("x");
        sealedText.Should().StartWith("enc:v1:");
        new SecretBox(new byte[32]).Open(sealedText).Should().Be("x");
        new SecretBox(new byte[32]).Seal("x").Should().NotBe(sealedText, "every value gets a fresh nonce");
        new SecretBox(new byte[32]).Open("written before encryption").Should().Be("written before encryption");
    }
}
