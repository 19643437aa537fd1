using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using Gantry.Api;
using Gantry.Core.Rollouts;

namespace Gantry.Benchmarks.Rollouts;

/// <summary>
/// How long `gantry rollback` of a completed blue-green release takes to put 100% of traffic back on the
/// previous version: from sending the rollback to the first answer of a request sent after it that the
/// previous version served, with every later request served by it too. Measured on the embedded server
/// with the real sample service; the peer, measured in the same run, is a rollback whose previous set
/// was already stopped (scaleDownDelay 0s), so the old version has to start again.
/// Run: dotnet run -c Release --project bench/Gantry.Benchmarks -- rollback [ITERATIONS]
/// </summary>
public static class RollbackBenchmark
{
    public static async Task<int> RunAsync(int iterations)
    {
        var shop = BenchServer.FindShop();
        Console.WriteLine($"rollback benchmark: {iterations} instant rollbacks (previous set retained) and {Math.Max(3, iterations / 3)} after scale-down, sample service {shop}");
        var instant = await MeasureAsync("10m", iterations);
        var cold = await MeasureAsync("0s", Math.Max(3, iterations / 3));
        Console.WriteLine();
        Console.WriteLine("| rollback | n | API answer (median) | 100% on previous: median | p90 | max | requests to the rolled-back version after the switch |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|");
        Print("previous set retained (scaleDownDelay 10m)", instant);
        Print("previous set stopped (scaleDownDelay 0s)", cold);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"\nratio retained / stopped (median): {Median(instant.Select(s => s.Switch)) / Median(cold.Select(s => s.Switch)):0.000}x"));
        return instant.Max(s => s.Switch) < 1000 && instant.All(s => s.Stray == 0) ? 0 : 1;
    }

    private sealed record Sample(double Api, double Switch, int Stray);

    private static void Print(string name, List<Sample> samples) => Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"| {name} | {samples.Count} | {Median(samples.Select(s => s.Api)):0.0} ms | {Median(samples.Select(s => s.Switch)):0.0} ms | {Percentile(samples.Select(s => s.Switch), 0.9):0.0} ms | {samples.Max(s => s.Switch):0.0} ms | {samples.Sum(s => s.Stray)} |"));

    private static double Median(IEnumerable<double> values) => Percentile(values, 0.5);

    private static double Percentile(IEnumerable<double> values, double p)
    {
        var sorted = values.Order().ToArray();
        return sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];
    }

    private static async Task<List<Sample>> MeasureAsync(string scaleDownDelay, int iterations)
    {
        var samples = new List<Sample>();
        await using (var bench = await BenchServer.StartAsync($"blueGreen: {{ autoPromotion: true, autoPromotionSeconds: 0, scaleDownDelay: {scaleDownDelay} }}"))
        {
            var api = bench.Api;
            using var front = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { BaseAddress = new Uri($"http://{bench.Listen}") };
            await bench.WaitAsync(await bench.DeployAsync("v0"));
            for (var i = 1; i <= iterations; i++)
            {
                // The stable version stays v0: each iteration deploys a new version and rolls it back.
                var next = $"v{i}";
                const string previous = "v0";
                await bench.WaitAsync(await bench.DeployAsync(next));
                if (scaleDownDelay == "0s")
                {
                    // Let the previous set stop, so the rollback must start it again.
                    await Task.Delay(TimeSpan.FromSeconds(1));
                }

                var watch = Stopwatch.StartNew();
                using var rollback = await api.PostAsJsonAsync("/api/v1/services/shop/rollback", new RollbackRequest(), GantryJson.Options);
                rollback.EnsureSuccessStatusCode();
                var apiMs = watch.Elapsed.TotalMilliseconds;
                double switched;
                while (true)
                {
                    var version = await VersionAsync(front);
                    if (version == previous)
                    {
                        switched = watch.Elapsed.TotalMilliseconds;
                        break;
                    }
                }

                var stray = 0;
                for (var r = 0; r < 300; r++)
                {
                    stray += await VersionAsync(front) == previous ? 0 : 1;
                }

                samples.Add(new Sample(apiMs, switched, stray));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {(scaleDownDelay == "0s" ? "stopped " : "retained")} {next} -> {previous}: API {apiMs:0.0} ms, all traffic on {previous} after {switched:0.0} ms, {stray} stray"));
                await bench.WaitAsync(System.Text.Json.JsonSerializer.Deserialize<RolloutView>(await rollback.Content.ReadAsStringAsync(), GantryJson.Options)!.Rollout.Id);
            }
        }

        return samples;
    }

    /// <summary>The version that answered, or the error a client saw (which counts as a stray request).</summary>
    private static async Task<string> VersionAsync(HttpClient front)
    {
        try
        {
            using var response = await front.GetAsync(new Uri("/version", UriKind.Relative));
            var body = (await response.Content.ReadAsStringAsync()).Trim();
            if (!response.IsSuccessStatusCode)
            {
                Console.WriteLine($"    client saw {(int)response.StatusCode}: {body}");
                return "error";
            }

            return body;
        }
        catch (HttpRequestException ex)
        {
            Console.WriteLine($"    client saw: {ex.Message}");
            return "error";
        }
    }
}
