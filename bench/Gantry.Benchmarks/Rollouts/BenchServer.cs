using System.Net.Http.Json;
using Gantry.Api;
using Gantry.Core.Manifest;
using Gantry.Core.Manifest.Values;
using Gantry.Core.Rollouts;
using Gantry.Runtime;
using Gantry.Server;

namespace Gantry.Benchmarks.Rollouts;

/// <summary>An embedded server for a benchmark: the built sample service at 2 replicas with a given strategy, in a temp folder.</summary>
public sealed class BenchServer : IAsyncDisposable
{
    private readonly string folder;

    private BenchServer(string folder, GantryServer server, Endpoint listen)
    {
        this.folder = folder;
        Server = server;
        Listen = listen;
        Api = new HttpClient { BaseAddress = server.Address, Timeout = TimeSpan.FromSeconds(30) };
        Api.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", server.AdminToken);
    }

    public GantryServer Server { get; }

    public Endpoint Listen { get; }

    public HttpClient Api { get; }

    /// <summary>The built sample service (Release when built, else Debug).</summary>
    public static string FindShop()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            foreach (var configuration in new[] { "release", "debug" })
            {
                var dll = Path.Combine(dir.FullName, "artifacts", "bin", "Shop", configuration, "Shop.dll");
                if (File.Exists(dll))
                {
                    return dll;
                }
            }
        }

        throw new FileNotFoundException("build the sample service first: dotnet build examples/shop");
    }

    /// <param name="strategy">The <c>strategy:</c> block's content, one line, such as <c>blueGreen: { ... }</c>.</param>
    /// <param name="extra">Top-level YAML after the services (analysis templates).</param>
    public static async Task<BenchServer> StartAsync(string strategy, string extra = "")
    {
        var folder = Directory.CreateTempSubdirectory("gantry-bench-").FullName;
        var listen = new Endpoint("127.0.0.1", LoopbackPorts.Next());
        var text = $$"""
            version: 1
            services:
              shop:
                process:
                  command: dotnet
                  args: ["{{FindShop()}}", --urls, "http://127.0.0.1:{port}"]
                  env: { APP_VERSION: "{version}" }
                listen: {{listen}}
                replicas: 2
                health:
                  startup:   { path: /health, interval: 100ms, failureThreshold: 100 }
                  readiness: { path: /health/ready, interval: 200ms }
                strategy:
                  {{strategy}}
            {{extra}}
            """;
        var loaded = ManifestLoader.LoadText(text);
        var manifest = loaded.Manifest ?? throw new InvalidOperationException(string.Join("\n", loaded.Diagnostics));
        var server = await GantryServer.StartAsync(manifest, folder, new ServerOptions(Path.Combine(folder, "data"), new Endpoint("127.0.0.1", LoopbackPorts.Next())), TimeProvider.System, null, CancellationToken.None);
        return new BenchServer(folder, server, listen);
    }

    /// <summary>A server for a manifest file as a user has it (its paths relative to its folder), serving <paramref name="service"/> in <paramref name="environment"/>.</summary>
    public static async Task<BenchServer> StartFileAsync(string path, string service, string environment)
    {
        var folder = Directory.CreateTempSubdirectory("gantry-bench-").FullName;
        var loaded = ManifestLoader.LoadFile(path);
        var manifest = loaded.Manifest ?? throw new InvalidOperationException(string.Join("\n", loaded.Diagnostics));
        var spec = manifest.FindService(service) ?? throw new InvalidOperationException($"no service {service} in {path}");
        var listen = manifest.FindEnvironment(environment)?.Overrides.FirstOrDefault(o => o.Service == service)?.Listen ?? spec.Listen;
        var server = await GantryServer.StartAsync(manifest, Path.GetDirectoryName(Path.GetFullPath(path))!, new ServerOptions(Path.Combine(folder, "data"), new Endpoint("127.0.0.1", LoopbackPorts.Next())), TimeProvider.System, null, CancellationToken.None);
        return new BenchServer(folder, server, listen) { Environment = environment };
    }

    /// <summary>The environment deployed to (the manifest's default when null).</summary>
    public string? Environment { get; private init; }

    /// <summary>Deploys a version; returns its rollout id.</summary>
    public async Task<string> DeployAsync(string version, Dictionary<string, string>? env = null)
    {
        using var response = await Api.PostAsJsonAsync("/api/v1/rollouts", new DeployRequest("shop", version, Environment, env), GantryJson.Options);
        var body = await response.Content.ReadAsStringAsync();
        return response.IsSuccessStatusCode
            ? System.Text.Json.JsonSerializer.Deserialize<RolloutView>(body, GantryJson.Options)!.Rollout.Id
            : throw new InvalidOperationException(body);
    }

    /// <summary>Waits until the rollout ends, or pauses on an analysis (when <paramref name="orAnalysisPause"/>).</summary>
    public async Task<RolloutState> WaitAsync(string id, bool orAnalysisPause = false, TimeSpan? timeout = null)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        RolloutState? r = null;
        while (watch.Elapsed < (timeout ?? TimeSpan.FromMinutes(2)))
        {
            var view = await Api.GetFromJsonAsync<RolloutView>($"/api/v1/rollouts/{id}", GantryJson.Options);
            r = view!.Rollout;
            if (r.Phase.IsTerminal() || (orAnalysisPause && r.Phase == RolloutPhase.Paused && r.Message.StartsWith("analysis", StringComparison.Ordinal)))
            {
                return r;
            }

            await Task.Delay(50);
        }

        var analysis = await Api.GetStringAsync($"/api/v1/rollouts/{id}/analysis");
        throw new TimeoutException($"rollout {id} did not end: {r?.Phase}: {r?.Message}\n{analysis}");
    }

    public async ValueTask DisposeAsync()
    {
        Api.Dispose();
        await Server.DisposeAsync();
        Directory.Delete(folder, recursive: true);
    }
}
