using System.CommandLine;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Gantry.Api;
using Gantry.Client;
using Gantry.Core.Manifest;
using Gantry.Core.Manifest.Values;
using Gantry.Core.Rollouts;
using Gantry.Runtime;
using Gantry.Server;

namespace Gantry.Demo;

/// <summary>
/// <c>gantry demo</c>: a whole story on the embedded default, with nothing installed but .NET. A server with
/// a temp data directory runs the sample service twice (shop: canary, cart: blue-green); steady traffic
/// flows; v1 goes out, v2 moves through every canary step, cart v2 switches blue-green, and shop v3, made
/// to fail 30% of its requests, is aborted by its analysis. A summary says what clients saw.
/// </summary>
internal static class DemoCommand
{
    private sealed record Stage(string Service, string Version, string Strategy, RolloutPhase Expected, IReadOnlyDictionary<string, string> Set, string Why);

    private sealed record StageResult(Stage Stage, RolloutPhase Phase, TimeSpan Took, TrafficReading Traffic, string Message);

    private static readonly Dictionary<string, string> NoVariables = new(StringComparer.Ordinal);

    public static Command Create(TimeProvider time)
    {
        var file = new Option<string?>("--file", "-f") { Description = "The manifest (default: examples/demo/gantry.yaml of this source tree, or gantry.docker.yaml with --runtime docker).", HelpName = "FILE" };
        var runtime = new Option<string>("--runtime") { Description = "process: the sample runs as local processes; docker: as containers of the Docker engine (DOCKER_HOST), its images built first.", DefaultValueFactory = _ => "process" };
        runtime.AcceptOnlyFromAmong("process", "docker");
        var command = new Command("demo", "Run a canary, a blue-green release and an automatic abort on the sample service, under steady traffic.") { file, runtime };
        command.SetAction((parse, ct) => RunAsync(parse.GetValue(file), parse.GetValue(runtime) == "docker", parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error, time, ct));
        return command;
    }

    private static string? FindExample(string name)
    {
        foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "examples", "demo", name);
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }
        }

        return null;
    }

    private static async Task<int> RunAsync(string? file, bool containers, TextWriter output, TextWriter error, TimeProvider time, CancellationToken ct)
    {
        var name = containers ? "gantry.docker.yaml" : ManifestLoader.DefaultFileName;
        var path = file ?? FindExample(name);
        if (path is null)
        {
            await error.WriteLineAsync($"gantry: the demo runs from a Gantry source tree: examples/demo/{name} not found (pass -f FILE)");
            return ExitCodes.BadInput;
        }

        if (containers && !await DemoContainers.ReachAsync(error, ct))
        {
            return ExitCodes.Failed;
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

        var canary = manifest.Services.FirstOrDefault(s => s.Strategy is CanaryStrategy);
        var blueGreen = manifest.Services.FirstOrDefault(s => s.Strategy is BlueGreenStrategy);
        if (canary is null || blueGreen is null)
        {
            await error.WriteLineAsync($"gantry: {path}: the demo needs a canary service and a blue-green service");
            return ExitCodes.BadInput;
        }

        manifest = await FreeListenersAsync(manifest, output);
        canary = manifest.FindService(canary.Name)!;
        blueGreen = manifest.FindService(blueGreen.Name)!;
        var data = Directory.CreateTempSubdirectory("gantry-demo-").FullName;
        var started = time.GetTimestamp();
        await output.WriteLineAsync($"Gantry demo: {Path.GetRelativePath(Environment.CurrentDirectory, path)}, data in {data}");
        var tree = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, "..", ".."));
        if (containers && !await DemoContainers.BuildImagesAsync(tree, ["v1", "v2", "v3"], output, error, ct))
        {
            return ExitCodes.Failed;
        }

        try
        {
            await using var server = await GantryServer.StartAsync(manifest, Path.GetDirectoryName(Path.GetFullPath(path))!, new ServerOptions(data, new Endpoint("127.0.0.1", LoopbackPorts.Next())), time, null, ct);
            using var api = ApiClient.For(server.Address, server.AdminToken);
            await output.WriteLineAsync($"  server on {server.Address}; {canary.Name} (canary) on http://{canary.Listen}, {blueGreen.Name} (blue-green) on http://{blueGreen.Listen}");
            await output.WriteLineAsync($"  dashboard on {server.Address.ToString().TrimEnd('/')}/ while the demo runs: sign in with the token in {Server.Access.TokenService.LocalAdminFile(data)}");

            // Events as they happen, from the server's own stream.
            using var streaming = CancellationTokenSource.CreateLinkedTokenSource(ct);
            var printer = PrintEventsAsync(api, output, time, started, streaming.Token);

            foreach (var first in new[] { canary, blueGreen })
            {
                var v1 = await api.StartAsync(new DeployRequest(first.Name, "v1"), ct);
                if (await WaitAsync(api, v1.Rollout.Id, ct) is not { Phase: RolloutPhase.Succeeded })
                {
                    await error.WriteLineAsync($"gantry: {first.Name} v1 did not start; was the sample built? (dotnet build examples/shop)");
                    return ExitCodes.Failed;
                }
            }

            await using var shopTraffic = new TrafficGenerator(new Uri($"http://{canary.Listen}/api/items"), 4, TimeSpan.FromMilliseconds(10), time);
            await using var cartTraffic = new TrafficGenerator(new Uri($"http://{blueGreen.Listen}/api/items"), 2, TimeSpan.FromMilliseconds(10), time);
            await Task.Delay(TimeSpan.FromSeconds(2), time, ct);
            var stages = new[]
            {
                new Stage(canary.Name, "v2", "canary", RolloutPhase.Succeeded, NoVariables, "a good release, through every canary step"),
                new Stage(blueGreen.Name, "v2", "blue-green", RolloutPhase.Succeeded, NoVariables, "a good release, switched at once"),
                new Stage(canary.Name, "v3", "canary", RolloutPhase.Aborted, new Dictionary<string, string>(StringComparer.Ordinal) { ["FAULT_ERROR_RATE"] = "0.3" }, "a bad release: 30% of its requests fail"),
            };
            var results = new List<StageResult>();
            foreach (var stage in stages)
            {
                var generator = stage.Service == canary.Name ? shopTraffic : cartTraffic;
                var before = generator.Read();
                var at = time.GetTimestamp();
                await output.WriteLineAsync();
                await output.WriteLineAsync($"  deploy {stage.Service} {stage.Version} ({stage.Why})");
                var created = await api.StartAsync(new DeployRequest(stage.Service, stage.Version, null, stage.Set), ct);
                var end = await WaitAsync(api, created.Rollout.Id, ct);
                await Task.Delay(TimeSpan.FromSeconds(1), time, ct);
                results.Add(new StageResult(stage, end.Phase, time.GetElapsedTime(at), generator.Read().Since(before), end.Message));
            }

            await streaming.CancelAsync();
            await printer;
            var total = Sum(shopTraffic.Read(), cartTraffic.Read());
            await output.WriteLineAsync();
            await output.WriteLineAsync("  release    strategy    outcome     took    requests  errors  served by");
            foreach (var r in results)
            {
                await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"  {r.Stage.Service + " " + r.Stage.Version,-10} {r.Stage.Strategy,-11} {r.Phase,-10} {r.Took.TotalSeconds,5:0.0} s {r.Traffic.Requests,9}  {r.Traffic.Errors,6}  {string.Join(", ", r.Traffic.ByVersion.OrderBy(v => v.Key, StringComparer.Ordinal).Select(v => $"{v.Key} {v.Value}"))}"));
            }

            await output.WriteLineAsync();
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"  clients sent {total.Requests} requests and saw {total.Errors} errors, all while a bad release was being tried on part of the traffic; demo took {time.GetElapsedTime(started).TotalSeconds:0} s."));
            var wrong = results.Where(r => r.Phase != r.Stage.Expected).ToList();
            foreach (var r in wrong)
            {
                await error.WriteLineAsync($"gantry: {r.Stage.Service} {r.Stage.Version} ended {r.Phase}, expected {r.Stage.Expected}: {r.Message}");
            }

            return wrong.Count == 0 ? ExitCodes.Success : ExitCodes.Failed;
        }
        finally
        {
            if (containers)
            {
                await DemoContainers.RemoveAsync(GantryServer.OwnerOf(data), CancellationToken.None);
            }

            try
            {
                Directory.Delete(data, recursive: true);
            }
            catch (IOException)
            {
                // Best effort: a log file may still be closing.
            }
        }
    }

    private static TrafficReading Sum(TrafficReading a, TrafficReading b) => new(a.Requests + b.Requests, a.Errors + b.Errors, a.ByVersion);

    private static async Task<RolloutState> WaitAsync(GantryClient api, string id, CancellationToken ct)
    {
        while (true)
        {
            var view = await api.RolloutAsync(id, ct);
            if (view.Rollout.Phase.IsTerminal())
            {
                return view.Rollout;
            }

            await Task.Delay(200, ct);
        }
    }

    private static async Task PrintEventsAsync(GantryClient api, TextWriter output, TimeProvider time, long started, CancellationToken ct)
    {
        try
        {
            await foreach (var e in api.EventsAsync(null, ct))
            {
                await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"  {time.GetElapsedTime(started).TotalSeconds,6:0.0}s  {e.Service,-5} {e.Type,-18} {e.Message}"));
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // The demo is over.
        }
    }

    /// <summary>Moves listeners that are taken on this machine to free loopback ports, and says so.</summary>
    private static async Task<GantryManifest> FreeListenersAsync(GantryManifest manifest, TextWriter output)
    {
        Endpoint Free(Endpoint wanted)
        {
            try
            {
                using var probe = new TcpListener(IPAddress.Parse(wanted.Host), wanted.Port);
                probe.Start();
                return wanted;
            }
            catch (SocketException)
            {
                return new Endpoint("127.0.0.1", LoopbackPorts.Next());
            }
        }

        var services = new List<ServiceSpec>();
        foreach (var s in manifest.Services)
        {
            var moved = s with { Listen = Free(s.Listen) };
            if (s.Strategy is BlueGreenStrategy { PreviewListen: { } preview } bg)
            {
                moved = moved with { Strategy = bg with { PreviewListen = Free(preview) } };
            }

            if (moved != s)
            {
                await output.WriteLineAsync($"  ({s.Name}: {s.Listen} is taken here; using {moved.Listen} instead)");
            }

            services.Add(moved);
        }

        return manifest with { Services = [.. services] };
    }
}
