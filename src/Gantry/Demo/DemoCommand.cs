using System.CommandLine;
using System.Globalization;
using Gantry.Core.Manifest;

namespace Gantry.Demo;

/// <summary>
/// <c>gantry demo</c>: runs the example shop service twice from its manifest, a healthy v1 and a v2
/// made bad on purpose, sends both traffic, and judges v2 against v1 with the manifest's analysis.
/// </summary>
internal static class DemoCommand
{
    private const int Requests = 1000;
    private const int Connections = 16;

    private static readonly Dictionary<string, string> BadRelease = new(StringComparer.Ordinal)
    {
        ["FAULT_ERROR_RATE"] = "0.05",
        ["FAULT_LATENCY_MS"] = "200",
        ["FAULT_LATENCY_JITTER_MS"] = "40",
    };

    public static Command Create(TimeProvider time)
    {
        var file = new Option<string?>("--file", "-f") { Description = "The manifest (default: examples/shop/gantry.yaml of this source tree).", HelpName = "FILE" };
        var command = new Command("demo", "Run the sample shop service, a good and a bad release, and judge them with the manifest's analysis.") { file };
        command.SetAction((parse, ct) => RunAsync(parse.GetValue(file), parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error, time, ct));
        return command;
    }

    private static string? FindExample()
    {
        foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "examples", "shop", ManifestLoader.DefaultFileName);
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }
        }

        return null;
    }

    private static async Task<int> RunAsync(string? file, TextWriter output, TextWriter error, TimeProvider time, CancellationToken ct)
    {
        var path = file ?? FindExample();
        if (path is null)
        {
            await error.WriteLineAsync("gantry: the demo runs from a Gantry source tree: examples/shop/gantry.yaml not found (pass -f FILE)");
            return ExitCodes.BadInput;
        }

        var loaded = ManifestLoader.LoadFile(path);
        if (loaded.Manifest is not { } manifest)
        {
            foreach (var d in loaded.Diagnostics)
            {
                await error.WriteLineAsync(d.ToString());
            }

            return ExitCodes.BadInput;
        }

        var service = manifest.Services[0];
        var templates = TemplatesOf(service.Strategy).Select(manifest.FindAnalysis).OfType<AnalysisTemplate>().ToList();
        await output.WriteLineAsync($"Gantry demo: {Path.GetRelativePath(Environment.CurrentDirectory, path)}");
        await output.WriteLineAsync($"  manifest valid: service '{service.Name}', {Describe(service.Strategy)}, analysis {string.Join(", ", templates.Select(t => t.Name))}");
        await output.WriteLineAsync();

        var folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
        using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = Connections, PooledConnectionLifetime = TimeSpan.FromMinutes(1) })
        {
            Timeout = TimeSpan.FromSeconds(10),
        };
        await using var good = LocalInstance.Start(service, folder, "v1", "demo", 0, new Dictionary<string, string>());
        await using var bad = LocalInstance.Start(service, folder, "v2", "demo", 0, BadRelease);
        var releases = new[] { ("v1", good, "healthy"), ("v2", bad, "5% errors, +200 ms") };
        foreach (var (version, instance, what) in releases)
        {
            var started = time.GetTimestamp();
            await output.WriteAsync($"  starting {service.Name} {version} ({what}) on 127.0.0.1:{instance.Port} ... ");
            if (!await instance.WaitUntilReadyAsync(client, service.Health.Readiness, TimeSpan.FromSeconds(60), time, ct))
            {
                await output.WriteLineAsync("not ready");
                await error.WriteLineAsync($"gantry: {service.Name} {version} did not become ready; was the sample built? (dotnet build examples/shop)");
                return ExitCodes.Failed;
            }

            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"ready in {time.GetElapsedTime(started).TotalSeconds:0.0} s"));
        }

        await output.WriteLineAsync($"  sending {Requests} requests to each, {Connections} at a time ...");
        var baseline = await TrafficSample.CollectAsync(client, new Uri($"http://127.0.0.1:{good.Port}/api/items"), Requests, Connections, time, ct);
        var candidate = await TrafficSample.CollectAsync(client, new Uri($"http://127.0.0.1:{bad.Port}/api/items"), Requests, Connections, time, ct);
        await output.WriteLineAsync();
        await output.WriteLineAsync("  version  requests  errors  error rate      p50      p90      p99");
        foreach (var (version, sample) in new[] { ("v1", baseline), ("v2", candidate) })
        {
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"  {version,-7}  {sample.Requests,8}  {sample.Errors,6}  {sample.ErrorRate * 100,9:0.00}%  {DemoAnalysis.Milliseconds(sample.Percentile(50)),7}  {DemoAnalysis.Milliseconds(sample.Percentile(90)),7}  {DemoAnalysis.Milliseconds(sample.Percentile(99)),7}"));
        }

        var failedBad = await ReportAsync(output, "v2", "v1", templates, candidate, baseline);
        var failedGood = await ReportAsync(output, "v1", "v1", templates, baseline, baseline);
        await output.WriteLineAsync();
        await output.WriteLineAsync(failedBad > 0 && failedGood == 0
            ? $"  verdict: v2 fails {failedBad} metric{(failedBad == 1 ? string.Empty : "s")} and v1 passes: a canary of v2 would be aborted, with traffic kept on v1."
            : $"  verdict: v2 failed {failedBad} metrics and v1 failed {failedGood}: this machine may be too loaded for the demo's thresholds.");
        await output.WriteLineAsync("  (traffic shifting and automatic rollback arrive with the router and rollout engine)");
        return ExitCodes.Success;
    }

    private static async Task<int> ReportAsync(TextWriter output, string version, string against, List<AnalysisTemplate> templates, TrafficSample candidate, TrafficSample baseline)
    {
        await output.WriteLineAsync();
        await output.WriteLineAsync($"  analysis of {version} against {against}:");
        var failed = 0;
        foreach (var verdict in templates.SelectMany(t => DemoAnalysis.Judge(t, candidate, baseline)).DistinctBy(v => v.Metric))
        {
            failed += verdict.Phase == DemoPhase.Fail ? 1 : 0;
            var tag = verdict.Phase switch { DemoPhase.Fail => "FAIL", DemoPhase.Pass => "pass", _ => "skip" };
            await output.WriteLineAsync($"  {tag}  {verdict.Metric,-16} {verdict.Sentence}");
        }

        return failed;
    }

    private static IEnumerable<string> TemplatesOf(StrategySpec strategy) => strategy switch
    {
        CanaryStrategy c => c.Steps.OfType<AnalysisStep>().SelectMany(s => s.Analysis.Templates).Distinct(),
        BlueGreenStrategy b => new[] { b.PrePromotionAnalysis, b.PostPromotionAnalysis }.OfType<AnalysisRef>().SelectMany(r => r.Templates).Distinct(),
        _ => [],
    };

    private static string Describe(StrategySpec strategy) => strategy switch
    {
        CanaryStrategy c => $"canary in {c.Steps.Length} steps",
        BlueGreenStrategy => "blue-green",
        _ => "rolling",
    };
}
