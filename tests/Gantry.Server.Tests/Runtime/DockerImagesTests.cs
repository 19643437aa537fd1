using System.Net.Http.Json;
using Gantry.Api;
using Gantry.Core.Rollouts;
using Gantry.Core.Runtime;
using Gantry.Runtime.Docker;
using Gantry.Testing;

namespace Gantry.Server.Tests.Runtime;

/// <summary>Images from a real registry (Debian's docker-registry on loopback): pulled with the engine's progress shown; missing there, the rollout fails at once; a container that exits at start shows its last lines.</summary>
[Collection(ServerTests.Name)]
public sealed class DockerImagesTests
{
    private static string Manifest(Core.Manifest.Values.Endpoint listen, string registry) => $$"""
        version: 1
        services:
          shop:
            docker:
              image: "{{registry}}/shop:{version}"
              args: [--urls, "http://127.0.0.1:{port}"]
              env: { APP_VERSION: "{version}" }
              stopTimeout: 5s
            listen: {{listen}}
            replicas: 1
            health:
              startup:   { path: /health, interval: 100ms, failureThreshold: 100 }
              readiness: { path: /health/ready, interval: 200ms, failureThreshold: 2 }
            progressDeadline: 2m
            strategy:
              canary: { steps: [{ setWeight: 50 }, { pause: { duration: 1s } }] }
        """;

    [RequiresBinaryFact("docker-registry", "docker-registry", Timeout = 300_000)]
    public async Task ImageFromARegistry_IsPulledWithProgress_MissingThereFailsAtOnce_AndAnExitAtStartShowsItsLastLines()
    {
        await using var daemon = await DockerDaemon.StartAsync();
        await using var registry = await ImageRegistry.StartAsync();
        await daemon.BuildShopImagesAsync("1.0");
        foreach (var version in new[] { "1.0", "1.1" })
        {
            (await daemon.DockerAsync(["tag", "gantry-shop:1.0", $"{registry.Address}/shop:{version}"])).ExitCode.Should().Be(0);
            var pushed = await daemon.DockerAsync(["push", $"{registry.Address}/shop:{version}"], TimeSpan.FromMinutes(2));
            pushed.ExitCode.Should().Be(0, pushed.Stderr);
            (await daemon.DockerAsync(["rmi", $"{registry.Address}/shop:{version}"])).ExitCode.Should().Be(0);
        }

        (await daemon.DockerAsync(["rmi", "gantry-shop:1.0"])).ExitCode.Should().Be(0, "nothing of the image is left on the engine: it must be pulled");
        using var host = daemon.AsDockerHost();
        await using var h = await ServerHarness.StartAsync(listen => Manifest(listen, registry.Address));
        var first = await h.DeployAsync("1.0");
        await h.WaitForPhaseAsync(first.Rollout.Id, RolloutPhase.Succeeded, TimeSpan.FromMinutes(2));
        var instance = h.Instances.Should().ContainSingle().Subject;
        var logs = (await h.Api.GetFromJsonAsync<List<InstanceLogs>>("/api/v1/services/shop/logs", GantryJson.Options))!.Should().ContainSingle().Subject.Lines;
        logs.Should().Contain($"gantry: pulling {registry.Address}/shop:1.0");
        logs.Should().Contain(l => l.StartsWith($"gantry: pulling {registry.Address}/shop:1.0: ", StringComparison.Ordinal) && (l.Contains("Download", StringComparison.Ordinal) || l.Contains("Pull complete", StringComparison.Ordinal)), "the engine's progress per layer");
        logs.Should().Contain($"gantry: pulled {registry.Address}/shop:1.0").And.Contain(l => l.Contains("listening on", StringComparison.Ordinal), "then the container's own output");
        instance.LastError.Should().BeNull("the pull's progress is not an error once the container runs");

        var missing = await h.DeployAsync("2.0");
        var failed = await h.WaitForPhaseAsync(missing.Rollout.Id, RolloutPhase.Failed, TimeSpan.FromSeconds(30));
        failed.Rollout.Message.Should().StartWith($"2.0 cannot start: No such image: {registry.Address}/shop:2.0 (pull: ").And.Contain("manifest unknown");

        // Pulled, started, and gone at once: the rollout says how, with the container's last lines.
        var broken = await h.DeployAsync("1.1", new Dictionary<string, string> { ["FAULT_ERROR_RATE"] = "7" });
        var aborted = await h.WaitForPhaseAsync(broken.Rollout.Id, RolloutPhase.Aborted, TimeSpan.FromMinutes(1));
        aborted.Rollout.Message.Should().Contain("exited with code 2; last lines: shop: FAULT_ERROR_RATE");

        // The host sees a container's process end a moment before the engine records it: asked in that moment,
        // the launcher waits for the engine's record rather than reading a running container's exit code 0.
        var running = await daemon.DockerAsync(["run", "-d", "--name", "gantry-probe-late", "--network", "host", $"{registry.Address}/shop:1.0", "--urls", "http://127.0.0.1:0"]);
        running.ExitCode.Should().Be(0, running.Stderr);
        using var launcher = new DockerLauncher(new DockerEngine(daemon.Host), "probe", TimeProvider.System);
        var exit = launcher.ExitOfAsync("late", CancellationToken.None);
        await Task.Delay(500);
        exit.IsCompleted.Should().BeFalse("the container still runs: " + (exit.IsCompleted ? exit.Result : string.Empty));
        (await daemon.DockerAsync(["kill", "gantry-probe-late"])).ExitCode.Should().Be(0);
        (await exit.WaitAsync(TimeSpan.FromSeconds(5))).Should().StartWith("exited with code 137");
    }
}
