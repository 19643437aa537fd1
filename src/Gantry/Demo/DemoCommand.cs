using System.CommandLine;
using System.Globalization;
using Gantry.Core.Manifest;
using Gantry.Core.Manifest.Values;
using Gantry.Proxy.Hosting;
using Gantry.Proxy.Routing;
using Gantry.Runtime;
using Gantry.Runtime.Process;

namespace Gantry.Demo;

/// <summary>
/// <c>gantry demo</c>: runs the example shop service twice from its manifest, a healthy v1 and a v2
/// made bad on purpose, sends both traffic, and judges v2 against v1 with the manifest's analysis.
/// </summary>
internal static class DemoCommand
{
    private const int Requests = 2000;
    private const int Connections = 16;

    private static readonly Dictionary<string, string> BadRelease = new(StringComparer.Ordinal)
    {
        ["FAULT_ERROR_RATE"] = "0.05",
        ["FAULT_LATENCY_MS"] = "200",
        ["FAULT_LATENCY_JITTER_MS"] = "40",
        ["FAULT_SEED"] = "7",
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
        await using var runtime = new ProcessRuntime(time);
        await runtime.EnsureAsync(new InstanceSetSpec(service, "demo", "v1", 1, folder, new Dictionary<string, string>()), ct);
        await runtime.EnsureAsync(new InstanceSetSpec(service, "demo", "v2", 1, folder, BadRelease), ct);
        var instances = new Dictionary<string, InstanceStatus>(StringComparer.Ordinal);
        foreach (var (version, what) in new[] { ("v1", "healthy"), ("v2", "5% errors, +200 ms") })
        {
            var started = time.GetTimestamp();
            var address = runtime.Observe().Single(i => i.Version == version).Address;
            await output.WriteAsync($"  starting {service.Name} {version} ({what}) on {address} ... ");
            InstanceStatus? ready = null;
            while (time.GetElapsedTime(started) < TimeSpan.FromSeconds(60) && (ready = runtime.Observe().Single(i => i.Version == version)).Phase != InstancePhase.Ready)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(50), time, ct);
            }

            if (ready?.Phase != InstancePhase.Ready)
            {
                await output.WriteLineAsync("not ready");
                await error.WriteLineAsync($"gantry: {service.Name} {version} did not become ready ({ready?.LastError ?? ready?.Phase.ToString()}); was the sample built? (dotnet build examples/shop)");
                return ExitCodes.Failed;
            }

            instances[version] = ready;
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"ready in {time.GetElapsedTime(started).TotalSeconds:0.0} s"));
        }

        // The built-in router at the service's front door (or a free port when that one is taken).
        await using var router = new Router(time);
        var listen = service.Listen;
        RoutingTable Table(int canaryWeight) => new([new RouteSpec(
            service.Name, listen, [], "/",
            [
                new BackendGroup(BackendGroup.Stable, 100 - canaryWeight, [instances["v1"].Address], LoadBalancingPolicy.RoundRobin),
                new BackendGroup("canary", canaryWeight, [instances["v2"].Address], LoadBalancingPolicy.RoundRobin),
            ],
            [], null, null, PassiveHealthSpec.Default, TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(10))]);
        if (!(await router.ApplyAsync(Table(0), ct)).Applied)
        {
            listen = new Endpoint("127.0.0.1", LoopbackPorts.Next());
            await output.WriteLineAsync($"  ({service.Listen} is taken; the demo's router listens on {listen} instead)");
            var retry = await router.ApplyAsync(Table(0), ct);
            if (!retry.Applied)
            {
                await error.WriteLineAsync($"gantry: {retry.Error}");
                return ExitCodes.Failed;
            }
        }

        var front = new Uri($"http://{listen}/api/items");
        var weight = (service.Strategy as CanaryStrategy)?.Steps.OfType<SetWeightStep>().FirstOrDefault()?.Weight ?? 10;
        await output.WriteLineAsync($"  router on http://{listen}: stable v1 100%");
        var warm = await TrafficSample.CollectAsync(client, front, 200, Connections, ct);
        await router.ApplyAsync(Table(weight), ct);
        await output.WriteLineAsync($"  setWeight {weight}: stable v1 {100 - weight}%, canary v2 {weight}%; sending {Requests} requests through the router ...");
        var during = await TrafficSample.CollectAsync(client, front, Requests, Connections, ct);

        // What the router itself measured for each group: the figures the builtin metric provider reads.
        var window = TimeSpan.FromSeconds(60);
        var stable = router.Metrics.For(service.Name, BackendGroup.Stable).Read(window);
        var canary = router.Metrics.For(service.Name, "canary").Read(window);
        await output.WriteLineAsync();
        await output.WriteLineAsync("  group    version  requests  errors  error rate      p50      p90      p99   (measured by the router)");
        foreach (var (group, version, s) in new[] { ("stable", "v1", stable), ("canary", "v2", canary) })
        {
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"  {group,-7}  {version,-7}  {s.Requests,8}  {s.Errors5xx + s.Failures,6}  {s.ErrorRate * 100,9:0.00}%  {DemoAnalysis.Milliseconds(s.P50),7}  {DemoAnalysis.Milliseconds(s.P90),7}  {DemoAnalysis.Milliseconds(s.P99),7}"));
        }

        double Of(BuiltinMetric m, Gantry.Proxy.Metrics.TrafficSnapshot s) => DemoAnalysis.Measure(m, s, window);
        var failedCanary = await ReportAsync(output, "canary v2", "stable v1", templates, m => Of(m, canary), m => Of(m, stable));
        var failedStable = await ReportAsync(output, "stable v1", "itself", templates, m => Of(m, stable), m => Of(m, stable));
        await output.WriteLineAsync();
        if (failedCanary == 0)
        {
            await output.WriteLineAsync("  verdict: v2 passed; this machine may be too loaded for the demo's thresholds.");
            return ExitCodes.Success;
        }

        await router.ApplyAsync(Table(0), ct);
        await output.WriteLineAsync($"  verdict: canary v2 fails {failedCanary} metric{(failedCanary == 1 ? string.Empty : "s")}{(failedStable == 0 ? " and stable v1 passes" : string.Empty)}: abort, all traffic back to stable v1.");
        var after = await TrafficSample.CollectAsync(client, front, 500, Connections, ct);
        await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"  after the abort: {after.Requests} requests, {after.Errors} errors, served by {string.Join(", ", after.ByVersion.OrderBy(v => v.Key, StringComparer.Ordinal).Select(v => $"{v.Key} ({v.Value})"))}"));
        await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"  clients saw {warm.Errors + during.Errors + after.Errors} errors in {warm.Requests + during.Requests + after.Requests} requests: the bad release reached {weight}% of the traffic, for {Requests} requests."));
        await output.WriteLineAsync("  (the demo drives the router by hand; the rollout engine will run the manifest's steps itself)");
        return ExitCodes.Success;
    }

    private static async Task<int> ReportAsync(TextWriter output, string version, string against, List<AnalysisTemplate> templates, Func<BuiltinMetric, double> candidate, Func<BuiltinMetric, double> baseline)
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
