using System.Diagnostics;
using Gantry.Core.Manifest;
using Gantry.Core.Runtime;
using Gantry.Runtime.Docker;
using Gantry.Runtime.Process;
using Gantry.Testing;

namespace Gantry.Server.Tests.Runtime;

/// <summary>Stopping sets of containers on a real Docker engine: each instance is given its stop timeout, whatever else stops beside it.</summary>
[Collection(ServerTests.Name)]
public sealed class DockerStopTests
{
    /// <summary>The shop in a container that ignores its stop signal (SIGWINCH), so every stop takes the whole stop timeout.</summary>
    private static ServiceSpec SlowToStop(TimeSpan stopTimeout) => ManifestLoader.LoadText($$"""
        version: 1
        services:
          shop:
            docker:
              image: "gantry-shop:{version}"
              args: [--urls, "http://127.0.0.1:{port}"]
              env: { APP_VERSION: "{version}" }
              stopSignal: SIGWINCH
              stopTimeout: {{(int)stopTimeout.TotalSeconds}}s
            listen: 127.0.0.1:{{FreePort.Next()}}
            replicas: 1
            health:
              startup:   { path: /health, interval: 100ms, failureThreshold: 100 }
              readiness: { path: /health/ready, interval: 200ms, failureThreshold: 2 }
            strategy:
              canary: { steps: [{ setWeight: 50 }] }
        """).Manifest!.FindService("shop")!;

    [RequiresBinaryFact("dockerd", "docker.io", Timeout = 240_000)]
    public async Task TwoSetsStopping_TheFirstOnesPruning_LeavesTheOtherItsStopTimeout()
    {
        await using var daemon = await DockerDaemon.StartAsync();
        await daemon.BuildShopImagesAsync("1.0");
        (await daemon.DockerAsync(["tag", "gantry-shop:1.0", "gantry-shop:2.0"])).ExitCode.Should().Be(0);
        var spec = SlowToStop(TimeSpan.FromSeconds(4));
        await using var runtime = new ProcessRuntime(TimeProvider.System, Path.Combine(Path.GetTempPath(), "gantry-stop-" + Guid.NewGuid().ToString("N")), "stoptest",
            launcher: new DockerLauncher(new DockerEngine(daemon.Host), "stoptest", TimeProvider.System));
        var sets = new List<InstanceSetId>();
        foreach (var version in new[] { "1.0", "2.0" })
        {
            var set = new InstanceSetSpec(spec, "test", version, 1, RepoPaths.Root, new Dictionary<string, string>());
            await runtime.EnsureAsync(set, CancellationToken.None);
            sets.Add(set.SetId);
        }

        await Wait.UntilAsync(async () => { await Task.Yield(); return runtime.Observe().Count(i => i.Phase == InstancePhase.Ready) == 2; }, TimeSpan.FromSeconds(60), "both containers ready");

        // 1.0 stops first; when its stop ends it prunes the service's containers of sets no longer running. 2.0,
        // stopping meanwhile, is not one of them: its container is left to its own stop, the whole stop timeout.
        var first = runtime.StopAsync(sets[0], CancellationToken.None);
        await Task.Delay(2000);
        var watch = Stopwatch.StartNew();
        await runtime.StopAsync(sets[1], CancellationToken.None);
        watch.Elapsed.Should().BeGreaterThan(TimeSpan.FromSeconds(3.5), "2.0's container is killed at its stop timeout (4 s), not removed by 1.0's pruning about 2 s in");
        await first;
        (await daemon.DockerAsync(["ps", "-a", "--filter", "label=org.gantry.owner=stoptest", "--format", "{{.Names}}"])).Stdout.Trim().Should().BeEmpty("each stop removes its containers");
    }
}
