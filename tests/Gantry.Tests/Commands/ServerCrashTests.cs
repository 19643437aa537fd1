using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using Gantry.Api;
using Gantry.Core.Rollouts;
using Gantry.Runtime.Process;
using Gantry.Server;
using Gantry.Server.Rollouts;
using Gantry.Testing;

namespace Gantry.Tests.Commands;

/// <summary>
/// <c>gantry server</c> killed with SIGKILL at random points of canaries, and started again on the same
/// data: every rollout ends as it should, no instance of a killed server is left running, and every
/// rollout's events are numbered without gaps, with no step recorded twice.
/// </summary>
public sealed class ServerCrashTests(ITestOutputHelper log) : IDisposable
{
    private const int Runs = 20;
    private readonly string folder = Directory.CreateTempSubdirectory("gantry-crash-").FullName;
    private readonly HttpClient api = new() { Timeout = TimeSpan.FromSeconds(15) };

    public void Dispose()
    {
        api.Dispose();
        Directory.Delete(folder, recursive: true);
    }

    private string Data => Path.Combine(folder, "data");

    [Fact(Timeout = 600_000)]
    public async Task Server_KilledAtRandomPointsOfCanaries_ResumesEveryRolloutWithoutOrphansOrDuplicateEvents()
    {
        var listen = FreePort.Next();
        var apiPort = FreePort.Next();
        var manifest = Path.Combine(folder, "gantry.yaml");
        await File.WriteAllTextAsync(manifest, $$"""
            version: 1
            services:
              shop:
                {{SampleService.Process(4)}}
                listen: 127.0.0.1:{{listen}}
                replicas: 1
                health:
                  startup:   { path: /health, interval: 100ms, failureThreshold: 100 }
                  readiness: { path: /health/ready, interval: 200ms }
                progressDeadline: 2m
                strategy:
                  canary:
                    steps: [{ setWeight: 30 }, { pause: { duration: 1s } }, { setWeight: 60 }, { pause: { duration: 1s } }]
                    abortScaleDownDelay: 1s
            """);
        api.BaseAddress = new Uri($"http://127.0.0.1:{apiPort}");
        var random = new Random(20261122);
        var server = await StartServerAsync(manifest, apiPort);
        try
        {
            await WaitForAsync(await DeployAsync("v0"), RolloutPhase.Succeeded);
            for (var run = 1; run <= Runs; run++)
            {
                var abort = run % 2 == 0;
                var id = await DeployAsync($"v{run}");
                var killAfter = TimeSpan.FromMilliseconds(random.Next(0, 3500));
                var abortAfter = TimeSpan.FromMilliseconds(random.Next(0, (int)killAfter.TotalMilliseconds + 1));
                if (abort)
                {
                    await Task.Delay(abortAfter);
                    using var response = await api.PostAsJsonAsync($"/api/v1/rollouts/{id}/abort", new CommandRequest("crash test"), GantryJson.Options);
                    response.IsSuccessStatusCode.Should().BeTrue(await response.Content.ReadAsStringAsync());
                    await Task.Delay(killAfter - abortAfter);
                }
                else
                {
                    await Task.Delay(killAfter);
                }

                using (var kill = Process.Start("kill", ["-KILL", server.Id.ToString(CultureInfo.InvariantCulture)]))
                {
                    await kill.WaitForExitAsync();
                }

                await server.WaitForExitAsync(CancellationToken.None);
                await server.DisposeAsync();
                log.WriteLine($"run {run}: {(abort ? $"abort at {abortAfter.TotalMilliseconds} ms, " : string.Empty)}SIGKILL at {killAfter.TotalMilliseconds} ms");

                server = await StartServerAsync(manifest, apiPort);
                server.Stdout.Should().NotContain("error");
                var end = await WaitForAsync(id, abort ? RolloutPhase.Aborted : RolloutPhase.Succeeded);
                if (abort)
                {
                    end.Rollout.Message.Should().Be("aborted by local-admin: crash test");
                }

                // Settle: the aborted canary or the replaced stable set is stopped after its delay.
                var stable = abort ? $"v{run - 1}" : $"v{run}";
                var settled = await WaitForViewAsync(id, v => v.Instances.Count == 1 && v.Instances.All(i => i.Version == stable && i.Phase == Core.Runtime.InstancePhase.Ready));
                Orphans.Find(GantryServer.OwnerOf(Data)).Should().BeEquivalentTo(settled.Instances.Select(i => i.ProcessId!.Value), "only the live server's own instance runs");
                await CheckEventsAsync(id, abort);
            }
        }
        finally
        {
            using (var term = Process.Start("kill", ["-TERM", server.Id.ToString(CultureInfo.InvariantCulture)]))
            {
                await term.WaitForExitAsync();
            }

            await server.WaitForExitAsync(CancellationToken.None);
            await server.DisposeAsync();
        }

        Orphans.Find(GantryServer.OwnerOf(Data)).Should().BeEmpty("a server stopped with SIGTERM stops its instances");
    }

    private async Task CheckEventsAsync(string id, bool aborted)
    {
        var events = (await api.GetFromJsonAsync<List<StoredEvent>>($"/api/v1/rollouts/{id}/events", GantryJson.Options))!;
        events.Select(e => e.Seq).Should().Equal(Enumerable.Range(1, events.Count), "events are numbered without gaps");
        events.Count(e => e.Type == "Created").Should().Be(1);
        events.Where(e => e.Type is "Succeeded" or "Aborted" or "Failed").Select(e => e.Type).Should().Equal(aborted ? "Aborted" : "Succeeded");
        events.Last().Type.Should().Be("ScaledDown", string.Join("\n", events.Select(e => $"{e.Seq} {e.Type} {e.Message}")));
        events.Where(e => e.Message.StartsWith("step ", StringComparison.Ordinal)).GroupBy(e => e.Type + e.Message)
            .Should().NotContain(g => g.Count() > 1, "no step is recorded twice");
    }

    private async Task<ChildProcess> StartServerAsync(string manifest, int apiPort)
    {
        var server = ChildProcess.Start("dotnet", [RepoPaths.GantryDll, "server", "-f", manifest, "--data", Data, "--listen", $"127.0.0.1:{apiPort}"]);
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < TimeSpan.FromSeconds(30))
        {
            try
            {
                using var ready = await api.GetAsync(new Uri("/health/ready", UriKind.Relative));
                if (ready.IsSuccessStatusCode)
                {
                    // The server's local admin token, made on its first start and kept across restarts.
                    api.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", (await File.ReadAllTextAsync(Path.Combine(Data, "admin.token"))).Trim());
                    return server;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            server.HasExited.Should().BeFalse(server.Stderr);
            await Task.Delay(50);
        }

        throw new TimeoutException("the server did not become ready: " + server.Stderr);
    }

    private async Task<string> DeployAsync(string version)
    {
        using var response = await api.PostAsJsonAsync("/api/v1/rollouts", new DeployRequest("shop", version), GantryJson.Options);
        var body = await response.Content.ReadAsStringAsync();
        response.IsSuccessStatusCode.Should().BeTrue(body);
        return System.Text.Json.JsonSerializer.Deserialize<RolloutView>(body, GantryJson.Options)!.Rollout.Id;
    }

    private Task<RolloutView> WaitForAsync(string id, RolloutPhase phase) => WaitForViewAsync(id, v => v.Rollout.Phase == phase);

    private async Task<RolloutView> WaitForViewAsync(string id, Func<RolloutView, bool> until)
    {
        var watch = Stopwatch.StartNew();
        RolloutView? view = null;
        while (watch.Elapsed < TimeSpan.FromSeconds(60))
        {
            view = await api.GetFromJsonAsync<RolloutView>($"/api/v1/rollouts/{id}", GantryJson.Options);
            if (until(view!))
            {
                return view!;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"rollout {id}: {view?.Rollout.Phase}: {view?.Rollout.Message}; instances {string.Join("; ", view?.Instances ?? [])}");
    }
}
