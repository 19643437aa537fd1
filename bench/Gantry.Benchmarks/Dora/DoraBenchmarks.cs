using BenchmarkDotNet.Attributes;
using Gantry.Core.Dora;
using Gantry.Storage.Sqlite;
using Microsoft.Data.Sqlite;

namespace Gantry.Benchmarks.Dora;

/// <summary>
/// What <c>gantry dora</c> does on a store of 1,000,000 rollouts and 20,000 incidents (the issue asks for under
/// 1 s): read the period's facts and compute the four keys, bands and weekly trend, over a 90-day window that
/// holds every rollout. Its peer: a plain SELECT of the same columns of the same rows over a direct connection.
/// </summary>
[MemoryDiagnoser]
public class DoraBenchmarks
{
    private const int Rollouts = 1_000_000;
    private const int Incidents = 20_000;
    private static readonly DateTimeOffset Start = new(2026, 1, 5, 0, 0, 0, TimeSpan.Zero);
    private string folder = string.Empty;
    private SqliteStore store = null!;

    /// <summary>The store set up, for a run that copies it elsewhere (<c>store-kinds</c>).</summary>
    public SqliteStore Store => store;

    [GlobalSetup]
    public void Setup()
    {
        folder = Directory.CreateTempSubdirectory("gantry-dora-bench-").FullName;
        var path = Path.Combine(folder, "gantry.db");
        store = SqliteStore.Open(path, TimeProvider.System);
        using var connection = new SqliteConnection($"Data Source={path}");
        connection.Open();
        using var transaction = connection.BeginTransaction();
        using (var insert = connection.CreateCommand())
        {
            insert.Transaction = transaction;
            insert.CommandText = """
                INSERT INTO rollouts (id, service, environment, seq, version, kind, phase, active, revision, created_at, updated_at, state, created_ms, finished_ms, commit_ms, outcome, lead_ms)
                VALUES ($id, $s, 'production', $seq, $v, 'Deploy', $p, 0, 3, '', '', '{}', $c, $f, $k, $o, $f - $k)
                """;
            var id = insert.Parameters.Add("$id", SqliteType.Text);
            var service = insert.Parameters.Add("$s", SqliteType.Text);
            var seq = insert.Parameters.Add("$seq", SqliteType.Integer);
            var version = insert.Parameters.Add("$v", SqliteType.Text);
            var phase = insert.Parameters.Add("$p", SqliteType.Text);
            var created = insert.Parameters.Add("$c", SqliteType.Integer);
            var finished = insert.Parameters.Add("$f", SqliteType.Integer);
            var commit = insert.Parameters.Add("$k", SqliteType.Integer);
            var outcome = insert.Parameters.Add("$o", SqliteType.Integer);
            var step = 80L * 24 * 3600 * 1000 / Rollouts; // 1M rollouts over 80 days: one every 6.9 s
            for (var i = 0; i < Rollouts; i++)
            {
                var at = Start.ToUnixTimeMilliseconds() + (i * step);
                id.Value = $"svc{i % 50}-production-{i / 50}";
                service.Value = $"svc{i % 50}";
                seq.Value = i / 50;
                version.Value = $"1.{i}";
                phase.Value = i % 20 == 0 ? "RolledBack" : i % 33 == 0 ? "Aborted" : i % 97 == 0 ? "Failed" : "Succeeded";
                outcome.Value = i % 20 == 0 ? 1 : i % 33 == 0 ? 2 : i % 97 == 0 ? 3 : 0;
                created.Value = at;
                finished.Value = at + 600_000;
                commit.Value = at - ((i % 48) * 3_600_000L);
                insert.ExecuteNonQuery();
            }
        }

        using (var insert = connection.CreateCommand())
        {
            insert.Transaction = transaction;
            insert.CommandText = "INSERT INTO incidents (service, environment, rollout_id, status, opened_ms, resolved_ms, revision, record) VALUES ($s, 'production', $r, 'Resolved', $o, $z, 2, '{}'); UPDATE rollouts SET incident = 1 WHERE id = $r";
            var service = insert.Parameters.Add("$s", SqliteType.Text);
            var rollout = insert.Parameters.Add("$r", SqliteType.Text);
            var opened = insert.Parameters.Add("$o", SqliteType.Integer);
            var resolved = insert.Parameters.Add("$z", SqliteType.Integer);
            for (var j = 0; j < Incidents; j++)
            {
                var i = j * 50 + 33 * (j % 3);
                service.Value = $"svc{i % 50}";
                rollout.Value = $"svc{i % 50}-production-{i / 50}";
                var at = Start.ToUnixTimeMilliseconds() + (i * (80L * 24 * 3600 * 1000 / Rollouts)) + 60_000;
                opened.Value = at;
                resolved.Value = at + ((j % 240) + 5) * 60_000L;
                insert.ExecuteNonQuery();
            }
        }

        transaction.Commit();
        using var checkpoint = connection.CreateCommand();
        checkpoint.CommandText = "PRAGMA wal_checkpoint(TRUNCATE)";
        checkpoint.ExecuteNonQuery();
    }

    [GlobalCleanup]
    public async Task Cleanup()
    {
        await store.DisposeAsync();
        SqliteConnection.ClearAllPools();
        Directory.Delete(folder, recursive: true);
    }

    [Benchmark(Baseline = true, Description = "peer: SELECT of the 1M rollouts' columns")]
    public long Select()
    {
        using var connection = new SqliteConnection($"Data Source={Path.Combine(folder, "gantry.db")}");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT created_ms, outcome, incident, lead_ms FROM rollouts WHERE kind = 'Deploy'";
        using var reader = command.ExecuteReader();
        long n = 0;
        while (reader.Read())
        {
            n += reader.GetInt64(0) & 1;
        }

        return n;
    }

    [Benchmark(Description = "gantry dora: 1M rollouts, 20k incidents, 90 days")]
    public async Task<DoraReport> Dora()
    {
        var to = Start.AddDays(85);
        var from = to.AddDays(-90);
        var (facts, incidents) = await store.DoraFactsAsync(null, "production", from, to, CancellationToken.None);
        return DoraMetrics.Compute(null, "production", from, to, facts, incidents);
    }

    /// <summary>Copies the database somewhere (when asked), to look at its queries with sqlite3.</summary>
    public void KeepCopy(string? path)
    {
        if (path is not null)
        {
            File.Copy(Path.Combine(folder, "gantry.db"), path, overwrite: true);
        }
    }

    /// <summary>Times reading the facts and computing the report apart, to see where the time goes.</summary>
    public async Task SplitAsync(TextWriter output)
    {
        var to = Start.AddDays(85);
        var from = to.AddDays(-90);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var (facts, incidents) = await store.DoraFactsAsync(null, "production", from, to, CancellationToken.None);
        var read = watch.Elapsed;
        DoraMetrics.Compute(null, "production", from, to, facts, incidents);
        await output.WriteLineAsync($"read {read.TotalMilliseconds:0} ms, compute {(watch.Elapsed - read).TotalMilliseconds:0} ms ({facts.Count} rollouts)");
    }
}
