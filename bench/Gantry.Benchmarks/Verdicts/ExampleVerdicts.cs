using System.Diagnostics;
using System.Globalization;
using Gantry.Benchmarks.Rollouts;
using Gantry.Core.Rollouts;

namespace Gantry.Benchmarks.Verdicts;

/// <summary>
/// Healthy canaries of the sample service rolled out with the example manifest exactly as a user has it
/// (examples/shop/gantry.yaml, environment development: 10%, its SLO analysis, 50%, a 30 s pause, the SLO and the
/// judges against a fresh baseline, 100%) under steady load from wrk (16 connections): how many it aborts.
/// Run: dotnet run -c Release --project bench/Gantry.Benchmarks -- verdicts-example [RUNS]  (needs wrk and dotnet build examples/shop)
/// </summary>
public static class ExampleVerdicts
{
    public static async Task<int> RunAsync(int runs)
    {
        var manifest = FindExample();
        await using var bench = await BenchServer.StartFileAsync(manifest, "shop", "development");
        await bench.WaitAsync(await bench.DeployAsync("v0"), timeout: TimeSpan.FromMinutes(5));
        using var wrk = Process.Start(new ProcessStartInfo("wrk", ["-t2", "-c16", "-d7200s", $"http://{bench.Listen}/api/items"]) { RedirectStandardOutput = true, RedirectStandardError = true })
            ?? throw new InvalidOperationException("wrk did not start (apt-get install wrk)");
        var output = wrk.StandardOutput.ReadToEndAsync();
        Console.WriteLine($"{runs} healthy canaries of {manifest} under wrk -c16");
        var aborted = new List<string>();
        var durations = new List<double>();
        for (var i = 1; i <= runs; i++)
        {
            var watch = Stopwatch.StartNew();
            var end = await bench.WaitAsync(await bench.DeployAsync($"v{i}"), timeout: TimeSpan.FromMinutes(5));
            durations.Add(watch.Elapsed.TotalSeconds);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {i,3} {end.Phase,-10} {watch.Elapsed.TotalSeconds:0} s  {end.Message}"));
            if (end.Phase != RolloutPhase.Succeeded)
            {
                aborted.Add($"v{i}: {end.Message}");
            }
        }

        using (var interrupt = Process.Start("kill", ["-INT", wrk.Id.ToString(CultureInfo.InvariantCulture)]))
        {
            await interrupt.WaitForExitAsync();
        }

        await wrk.WaitForExitAsync();
        Console.WriteLine();
        Console.WriteLine((await output).Trim());
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"\nhealthy canaries aborted: {aborted.Count}/{runs}; rollout time median {durations.Order().ElementAt(durations.Count / 2):0} s"));
        aborted.ForEach(a => Console.WriteLine($"  {a}"));
        return 0;
    }

    private static string FindExample()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var path = Path.Combine(dir.FullName, "examples", "shop", "gantry.yaml");
            if (File.Exists(path))
            {
                return path;
            }
        }

        throw new FileNotFoundException("examples/shop/gantry.yaml not found above the benchmark");
    }
}
