using System.Diagnostics;
using Gantry.Core.Dora;
using Gantry.Storage.Postgres;
using Gantry.Storage.Sql;
using Gantry.Storage.Transfer;

namespace Gantry.Benchmarks.Stores;

/// <summary>
/// The same reads on SQLite and PostgreSQL, same data, same run: <c>gantry dora</c> over 1,000,000 rollouts and
/// 20,000 incidents, and the audit chain's verification over 100,000 events. The SQLite stores are those of the
/// DORA and audit benchmarks; each is copied into an empty PostgreSQL database with <see cref="StoreCopy"/> (the
/// copy is timed too: it is <c>gantry store migrate</c>). Run by <c>bench/store.sh</c>, which starts PostgreSQL.
/// </summary>
public static class StoreKindsBenchmark
{
    public static async Task<int> RunAsync(string doraDatabase, string auditDatabase, int rounds)
    {
        var dora = new Dora.DoraBenchmarks();
        dora.Setup();
        var audit = new Audit.AuditVerifyBenchmarks();
        audit.Setup();
        try
        {
            await using var doraPostgres = await CopyAsync(dora.Store, doraDatabase, "1M rollouts, 20k incidents");
            await using var auditPostgres = await CopyAsync(audit.Store, auditDatabase, "100k audit events");
            var to = new DateTimeOffset(2026, 1, 5, 0, 0, 0, TimeSpan.Zero).AddDays(85);
            var from = to.AddDays(-90);
            async Task<long> DoraAsync(SqlStore store)
            {
                var (facts, incidents) = await store.DoraFactsAsync(null, "production", from, to, CancellationToken.None);
                return DoraMetrics.Compute(null, "production", from, to, facts, incidents).Weeks.Sum(w => (long)w.Deployments);
            }

            async Task<long> VerifyAsync(SqlStore store) => (await store.VerifyAuditAsync(CancellationToken.None)).Checked;

            Console.WriteLine("| measure | SQLite (median of {0}) | PostgreSQL (median of {0}) | ratio |", rounds);
            Console.WriteLine("|---|---:|---:|---:|");
            await ReportAsync("gantry dora: 1M rollouts, 20k incidents, 90 days", rounds, () => DoraAsync(dora.Store), () => DoraAsync(doraPostgres));
            await ReportAsync("audit verify: 100k events", rounds, () => VerifyAsync(audit.Store), () => VerifyAsync(auditPostgres));
            return 0;
        }
        finally
        {
            await dora.Cleanup();
            await audit.Cleanup();
        }
    }

    private static async Task<PostgresStore> CopyAsync(SqlStore from, string database, string what)
    {
        var to = PostgresStore.Open(database, TimeProvider.System);
        var watch = Stopwatch.StartNew();
        var result = await StoreCopy.CopyAsync(from, to, CancellationToken.None);
        Console.WriteLine($"copied {what} into {to.Describe}: {result.Rows:N0} rows in {watch.Elapsed.TotalSeconds:0.0} s; audit chain: {result.Audit.Message}");
        return to;
    }

    private static async Task ReportAsync(string measure, int rounds, Func<Task<long>> sqlite, Func<Task<long>> postgres)
    {
        async Task<(double Ms, long Result)> MedianAsync(Func<Task<long>> run)
        {
            var result = await run(); // warm-up
            var times = new List<double>();
            for (var i = 0; i < rounds; i++)
            {
                var watch = Stopwatch.StartNew();
                result = await run();
                times.Add(watch.Elapsed.TotalMilliseconds);
            }

            times.Sort();
            return (times[times.Count / 2], result);
        }

        var (lite, liteResult) = await MedianAsync(sqlite);
        var (pg, pgResult) = await MedianAsync(postgres);
        if (liteResult != pgResult)
        {
            throw new InvalidOperationException($"{measure}: SQLite says {liteResult}, PostgreSQL {pgResult}");
        }

        Console.WriteLine($"| {measure} | {lite:0} ms | {pg:0} ms | {pg / lite:0.00}x |");
    }
}
