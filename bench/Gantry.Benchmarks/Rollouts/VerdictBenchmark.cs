using System.Globalization;
using System.Net.Http.Json;
using Gantry.Api;
using Gantry.Core.Rollouts;

namespace Gantry.Benchmarks.Rollouts;

/// <summary>
/// How well analysis decides: many canaries of the sample service through the real router under steady
/// load, half healthy and half bad in one of the runbooks' ways (+10% errors, +100 ms latency, rare 1 s
/// spikes on 5% of requests), judged once with threshold rules against the baseline and once with the
/// statistical judge. Reports detection and false-alarm rates, and the time from the bad canary receiving
/// traffic to all traffic back on stable.
/// Run: dotnet run -c Release --project bench/Gantry.Benchmarks -- verdicts [CANARIES_PER_MODE] [MODE ...] (modes: thresholds, judge, judge-2s, sequential; all but judge-2s by default)
/// </summary>
public static class VerdictBenchmark
{
    private sealed record Fault(string Name, Dictionary<string, string> Env);

    private sealed record Outcome(string Mode, string Fault, bool Bad, bool Aborted, double? SecondsToStable, string Message);

    private static readonly Fault[] Faults =
    [
        new("errors +10%", new() { ["FAULT_ERROR_RATE"] = "0.10" }),
        new("latency +100 ms", new() { ["FAULT_LATENCY_MS"] = "100" }),
        new("spikes 1 s on 5%", new() { ["FAULT_SPIKE_RATE"] = "0.05", ["FAULT_SPIKE_MS"] = "1000" }),
    ];

    private const string Thresholds = """
        analysis:
          verdict:
            interval: 1s
            count: 3
            metrics:
              - { name: error-rate, provider: { builtin: { query: error_rate } }, failWhen: "> baseline + 5%" }
              - { name: p90, provider: { builtin: { query: latency_p90 } }, failWhen: "> baseline + 50ms" }
              - { name: p99, provider: { builtin: { query: latency_p99 } }, failWhen: "> baseline + 200ms" }
        """;

    private const string Judge = """
        analysis:
          verdict:
            interval: 1s
            count: 3
            metrics:
              - { name: error-rate, provider: { builtin: { query: error_rate } }, failWhen: "> baseline + 5%" }
              - name: latency
                provider: { builtin: { query: latency } }
                judge: { direction: increase, confidence: 0.98, allowedIncrease: 20%, tolerance: 5ms, outliers: keep, mustHaveData: true }
              - name: p99
                provider: { builtin: { query: latency_p99 } }
                judge: { direction: increase, confidence: 0.98, allowedIncrease: 50%, tolerance: 50ms, mustHaveData: true }
        """;

    private const string Sequential = """
        analysis:
          verdict:
            interval: 1s
            count: 3
            metrics:
              - name: error-rate
                provider: { builtin: { query: error_rate } }
                judge: { method: sequential, alpha: 0.05 }
              - name: latency
                provider: { builtin: { query: latency } }
                judge: { method: sequential, alpha: 0.05, tolerance: 5ms }
              - name: p99
                provider: { builtin: { query: latency_p99 } }
                judge: { method: sequential, alpha: 0.05, tolerance: 5ms }
        """;

    public static async Task<int> RunAsync(int perMode, IReadOnlyList<string> modes)
    {
        Console.WriteLine($"verdict benchmark: {perMode} canaries per mode, half of them bad ({string.Join(", ", Faults.Select(f => f.Name))})");
        var outcomes = new List<Outcome>();
        // judge-2s: the judge measuring every 2 s, longer than the 1 s spikes, so the first window holds finished ones.
        // sequential: the anytime-valid judge on errors, latency and p99, against a fresh baseline of the canary's size.
        foreach (var (mode, analysis) in new[] { ("thresholds", Thresholds), ("judge", Judge), ("judge-2s", Judge.Replace("interval: 1s", "interval: 2s", StringComparison.Ordinal)), ("sequential", Sequential) })
        {
            if (modes.Count == 0 ? mode is not "judge-2s" : modes.Contains(mode))
            {
                outcomes.AddRange(await RunModeAsync(mode, analysis, perMode));
            }
        }

        Console.WriteLine();
        Console.WriteLine("| analysis | fault | canaries | aborted | time to stable: median | p90 | max |");
        Console.WriteLine("|---|---|---:|---:|---:|---:|---:|");
        foreach (var group in outcomes.GroupBy(o => (o.Mode, o.Fault)))
        {
            var times = group.Select(o => o.SecondsToStable).OfType<double>().Order().ToArray();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {group.Key.Mode} | {group.Key.Fault} | {group.Count()} | {group.Count(o => o.Aborted)} | {Cell(times, 0.5)} | {Cell(times, 0.9)} | {Cell(times, 1)} |"));
        }

        Console.WriteLine();
        foreach (var mode in outcomes.GroupBy(o => o.Mode))
        {
            var bad = mode.Where(o => o.Bad).ToList();
            var good = mode.Where(o => !o.Bad).ToList();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{mode.Key}: detection {bad.Count(o => o.Aborted)}/{bad.Count} ({100.0 * bad.Count(o => o.Aborted) / bad.Count:0.#}%), false alarms {good.Count(o => o.Aborted)}/{good.Count} ({100.0 * good.Count(o => o.Aborted) / good.Count:0.#}%)"));
            foreach (var alarm in good.Where(o => o.Aborted))
            {
                Console.WriteLine($"  false alarm: {alarm.Message}");
            }

            foreach (var miss in bad.Where(o => !o.Aborted))
            {
                Console.WriteLine($"  missed ({miss.Fault}): {miss.Message}");
            }
        }

        return 0;
    }

    private static string Cell(double[] sorted, double p) =>
        sorted.Length == 0 ? "-" : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)].ToString("0.00 s", CultureInfo.InvariantCulture);

    private static async Task<List<Outcome>> RunModeAsync(string mode, string analysis, int count)
    {
        var outcomes = new List<Outcome>();
        var baseline = mode == "sequential" ? "baseline: fresh, " : string.Empty;
        await using (var bench = await BenchServer.StartAsync($"canary: {{ {baseline}steps: [{{ setWeight: 50 }}, {{ analysis: {{ templates: [verdict] }} }}], abortScaleDownDelay: 1s }}", analysis))
        {
            var api = bench.Api;
            var listen = bench.Listen;
            await bench.WaitAsync(await bench.DeployAsync("v0"));
            using var stop = new CancellationTokenSource();
            using var client = new HttpClient(new SocketsHttpHandler { UseProxy = false, MaxConnectionsPerServer = 8 }) { Timeout = TimeSpan.FromSeconds(10) };
            var front = new Uri($"http://{listen}/api/items");
            var load = Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    try
                    {
                        using var r = await client.GetAsync(front, stop.Token);
                        await r.Content.LoadIntoBufferAsync(stop.Token);
                    }
                    catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException)
                    {
                        // Counted by the router; the benchmark reads verdicts, not client errors.
                    }
                }
            })).ToArray();

            for (var i = 1; i <= count; i++)
            {
                var bad = i % 2 == 0;
                var fault = bad ? Faults[(i / 2) % Faults.Length] : null;
                var id = await bench.DeployAsync($"v{i}", fault?.Env);
                var end = await bench.WaitAsync(id, orAnalysisPause: true);
                var events = (await api.GetFromJsonAsync<List<StoredEvent>>($"/api/v1/rollouts/{id}/events", GantryJson.Options))!;
                var shifted = events.FirstOrDefault(e => e.Type == "TrafficShifted" && e.Message.StartsWith("step 1/", StringComparison.Ordinal));
                var aborted = events.FirstOrDefault(e => e.Type == "Aborted");
                double? seconds = shifted is not null && aborted is not null ? (aborted.Time - shifted.Time).TotalSeconds : null;
                outcomes.Add(new Outcome(mode, fault?.Name ?? "healthy", bad, end.Phase == RolloutPhase.Aborted, seconds, end.Message));
                if (end.Phase == RolloutPhase.Paused)
                {
                    // Inconclusive: a person would decide; the benchmark counts it as not aborted and moves on.
                    using var abort = await api.PostAsJsonAsync($"/api/v1/rollouts/{id}/abort", new CommandRequest("benchmark: inconclusive"), GantryJson.Options);
                    await bench.WaitAsync(id);
                }
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  {mode} {i,3} {fault?.Name ?? "healthy",-18} {end.Phase,-10} {(seconds is { } s ? $"{s:0.00} s to stable" : string.Empty)}"));
                if (end.Phase == RolloutPhase.Aborted)
                {
                    // Wait for the aborted canary to stop before the next one.
                    await Task.Delay(1500);
                }
            }

            await stop.CancelAsync();
            await Task.WhenAll(load);
        }

        return outcomes;
    }
}
