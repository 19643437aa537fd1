using System.Globalization;
using BenchmarkDotNet.Attributes;
using Gantry.Core.Audit;
using Gantry.Storage.Sqlite;
using Microsoft.Data.Sqlite;

namespace Gantry.Benchmarks.Audit;

/// <summary>
/// Verifying an audit trail of 100,000 events (the issue asks for under 2 s), against its peer: reading the
/// same rows with a plain SELECT over a direct connection. The ratio is what hashing and checking cost.
/// </summary>
[MemoryDiagnoser]
public class AuditVerifyBenchmarks
{
    private const int Events = 100_000;
    private string folder = string.Empty;
    private SqliteStore store = null!;

    /// <summary>The store set up, for a run that copies it elsewhere (<c>store-kinds</c>).</summary>
    public SqliteStore Store => store;

    [GlobalSetup]
    public void Setup()
    {
        folder = Directory.CreateTempSubdirectory("gantry-audit-bench-").FullName;
        var path = Path.Combine(folder, "gantry.db");
        store = SqliteStore.Open(path, TimeProvider.System);
        using var connection = new SqliteConnection($"Data Source={path}");
        connection.Open();
        using var transaction = connection.BeginTransaction();
        using var insert = connection.CreateCommand();
        insert.Transaction = transaction;
        insert.CommandText = "INSERT INTO audit (seq, at, actor, action, target, detail, reason, source, prev_hash, hash) VALUES ($seq, $at, $actor, $action, $target, $detail, NULL, $source, $prev, $hash)";
        var previous = AuditChain.Genesis;
        var start = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        for (long seq = 1; seq <= Events; seq++)
        {
            var at = start.AddSeconds(seq);
            var target = $"shop/production/shop-production-{seq / 5}";
            var detail = $"step {seq % 7}/7: canary shop {seq / 5} at {seq % 100}%";
            var hash = AuditChain.HashOf(seq, at, "gantry", "rollout.TrafficShifted", target, detail, null, "10.0.0.7", previous);
            insert.Parameters.Clear();
            insert.Parameters.AddWithValue("$seq", seq);
            insert.Parameters.AddWithValue("$at", at.ToString("O", CultureInfo.InvariantCulture));
            insert.Parameters.AddWithValue("$actor", "gantry");
            insert.Parameters.AddWithValue("$action", "rollout.TrafficShifted");
            insert.Parameters.AddWithValue("$target", target);
            insert.Parameters.AddWithValue("$detail", detail);
            insert.Parameters.AddWithValue("$source", "10.0.0.7");
            insert.Parameters.AddWithValue("$prev", previous);
            insert.Parameters.AddWithValue("$hash", hash);
            insert.ExecuteNonQuery();
            previous = hash;
        }

        using var head = connection.CreateCommand();
        head.Transaction = transaction;
        head.CommandText = "INSERT INTO audit_head (id, seq, hash) VALUES (1, $seq, $hash)";
        head.Parameters.AddWithValue("$seq", Events);
        head.Parameters.AddWithValue("$hash", previous);
        head.ExecuteNonQuery();
        transaction.Commit();
    }

    [GlobalCleanup]
    public async Task Cleanup()
    {
        await store.DisposeAsync();
        SqliteConnection.ClearAllPools();
        Directory.Delete(folder, recursive: true);
    }

    [Benchmark(Baseline = true, Description = "peer: SELECT of 100k audit rows")]
    public long Select()
    {
        using var connection = new SqliteConnection($"Data Source={Path.Combine(folder, "gantry.db")}");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT seq, at, actor, action, target, detail, reason, source, prev_hash, hash FROM audit ORDER BY seq";
        using var reader = command.ExecuteReader();
        long n = 0;
        while (reader.Read())
        {
            n += reader.GetString(9).Length;
        }

        return n;
    }

    [Benchmark(Description = "gantry: verify 100k-event chain")]
    public async Task<long> Verify()
    {
        var verdict = await store.VerifyAuditAsync(CancellationToken.None);
        return verdict.Intact ? verdict.Checked : throw new InvalidOperationException(verdict.Message);
    }
}
