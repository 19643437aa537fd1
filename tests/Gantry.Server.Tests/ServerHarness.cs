using System.Diagnostics;
using System.Net.Http.Json;
using Gantry.Api;
using Gantry.Core.Manifest;
using Gantry.Core.Manifest.Values;
using Gantry.Core.Rollouts;
using Gantry.Core.Runtime;
using Gantry.Runtime;
using Gantry.Server.Rollouts;
using Gantry.Testing;

namespace Gantry.Server.Tests;

/// <summary>
/// A real embedded server for a test: a manifest running the real sample service, a temp data directory,
/// the API and the service's listener on free loopback ports.
/// </summary>
public sealed class ServerHarness : IAsyncDisposable
{
    private ServerHarness(string folder, GantryManifest manifest, GantryServer server, Endpoint listen)
    {
        Folder = folder;
        Manifest = manifest;
        Server = server;
        Listen = listen;
        Api = new HttpClient { BaseAddress = server.Address, Timeout = TimeSpan.FromSeconds(30) };
        Api.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", server.AdminToken);
    }

    public string Folder { get; }

    public GantryManifest Manifest { get; }

    public GantryServer Server { get; }

    public Endpoint Listen { get; }

    public HttpClient Api { get; }

    public Uri Front => new($"http://{Listen}/api/items");

    /// <summary>A manifest for the sample service with the given strategy block (indented under <c>strategy:</c>), and extra top-level YAML.</summary>
    public static string ManifestText(Endpoint listen, string strategy, int replicas = 2, string deadline = "60s", string extra = "", string service = "") => $$"""
        version: 1
        services:
          shop:
            {{SampleService.Process(4)}}
            listen: {{listen}}
            replicas: {{replicas}}
            health:
              startup:   { path: /health, interval: 300ms, failureThreshold: 100 }
              readiness: { path: /health/ready, interval: 200ms, failureThreshold: 2 }
            progressDeadline: {{deadline}}
        {{string.Join("\n", service.Split('\n').Select(l => "    " + l))}}
            strategy:
        {{string.Join("\n", strategy.Split('\n').Select(l => "      " + l))}}
        {{extra}}
        """;

    public static async Task<ServerHarness> StartAsync(Func<Endpoint, string> manifestText, string? dataFolder = null, int? apiPort = null, Gantry.Server.Access.AccessOptions? access = null, TimeProvider? time = null, Action<Microsoft.Extensions.DependencyInjection.IServiceCollection>? configure = null, TimeSpan? resync = null)
    {
        var folder = dataFolder ?? Directory.CreateTempSubdirectory("gantry-server-").FullName;
        var listen = new Endpoint("127.0.0.1", FreePort.Next());
        var text = manifestText(listen);
        await File.WriteAllTextAsync(Path.Combine(folder, "gantry.yaml"), text);
        var loaded = ManifestLoader.LoadText(text);
        var manifest = loaded.Manifest ?? throw new InvalidOperationException(string.Join("\n", loaded.Diagnostics));
        var server = await GantryServer.StartAsync(manifest, folder, new ServerOptions(Path.Combine(folder, "data"), new Endpoint("127.0.0.1", apiPort ?? FreePort.Next()), access) { Resync = resync ?? TimeSpan.FromSeconds(30) }, time ?? TimeProvider.System, null, CancellationToken.None, configure);
        return new ServerHarness(folder, manifest, server, listen);
    }

    public async Task<RolloutView> DeployAsync(string version, Dictionary<string, string>? set = null, string service = "shop")
    {
        using var response = await Api.PostAsJsonAsync("/api/v1/rollouts", new DeployRequest(service, version, null, set), GantryJson.Options);
        var body = await response.Content.ReadAsStringAsync();
        response.IsSuccessStatusCode.Should().BeTrue(body);
        return System.Text.Json.JsonSerializer.Deserialize<RolloutView>(body, GantryJson.Options)!;
    }

    public async Task<RolloutView> CommandAsync(string action, object? body = null)
    {
        using var response = await Api.PostAsJsonAsync($"/api/v1/services/shop/{action}", body ?? new { }, GantryJson.Options);
        var text = await response.Content.ReadAsStringAsync();
        response.IsSuccessStatusCode.Should().BeTrue(text);
        return System.Text.Json.JsonSerializer.Deserialize<RolloutView>(text, GantryJson.Options)!;
    }

    public async Task<RolloutView> GetAsync(string id) =>
        (await Api.GetFromJsonAsync<RolloutView>($"/api/v1/rollouts/{id}", GantryJson.Options))!;

    /// <summary>Polls the rollout until <paramref name="until"/> holds; fails with the last state seen.</summary>
    public async Task<RolloutView> WaitAsync(string id, Func<RolloutView, bool> until, TimeSpan? timeout = null)
    {
        var watch = Stopwatch.StartNew();
        RolloutView view;
        do
        {
            view = await GetAsync(id);
            if (until(view))
            {
                return view;
            }

            await Task.Delay(100);
        }
        while (watch.Elapsed < (timeout ?? TimeSpan.FromSeconds(90)));

        var events = await Api.GetStringAsync($"/api/v1/rollouts/{id}/events");
        throw new TimeoutException($"rollout {id}: {view.Rollout.Phase} step {view.Rollout.Step}: {view.Rollout.Message}; instances: {string.Join("; ", view.Instances)}; "
            + $"traffic: {string.Join("; ", view.Traffic)}; its events (the last 6,000 characters): {events[Math.Max(0, events.Length - 6000)..]}");
    }

    public Task<RolloutView> WaitForPhaseAsync(string id, RolloutPhase phase, TimeSpan? timeout = null) =>
        WaitAsync(id, v => v.Rollout.Phase == phase, timeout);

    public IReadOnlyList<InstanceStatus> Instances => Server.Reconciler.Targets.Count == 0 ? [] : Server.Views.View(Server.Reconciler.Targets[0].State).Instances;

    public async ValueTask DisposeAsync()
    {
        Api.Dispose();
        await Server.DisposeAsync();
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
            // Best effort.
        }
    }
}
