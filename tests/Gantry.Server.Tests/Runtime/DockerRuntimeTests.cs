using Gantry.Core.Rollouts;
using Gantry.Core.Runtime;
using Gantry.Testing;

namespace Gantry.Server.Tests.Runtime;

/// <summary>Services in containers of a real Docker engine: a canary of gantry-shop images under load, without a client error.</summary>
[Collection(ServerTests.Name)]
public sealed class DockerRuntimeTests
{
    private static string Manifest(Core.Manifest.Values.Endpoint listen) => Manifest(listen, """
        canary:
          steps: [{ setWeight: 50 }, { pause: { duration: 2s } }]
        """);

    private static string Manifest(Core.Manifest.Values.Endpoint listen, string strategy, string extra = "") => $$"""
        version: 1
        services:
          shop:
            docker:
              image: "gantry-shop:{version}"
              args: [--urls, "http://127.0.0.1:{port}"]
              env: { APP_VERSION: "{version}" }
              stopTimeout: 5s
              memory: 256
            listen: {{listen}}
            replicas: 2
            health:
              startup:   { path: /health, interval: 300ms, failureThreshold: 100 }
              readiness: { path: /health/ready, interval: 200ms, failureThreshold: 2 }
            progressDeadline: 2m
            strategy:
        {{string.Join("\n", strategy.Split('\n').Select(l => "      " + l))}}
        {{extra}}
        """;

    [RequiresBinaryFact("dockerd", "docker.io", Timeout = 300_000)]
    public async Task Canary_OfImages_UnderLoad_NoClientErrorAndContainersLabelled()
    {
        await using var daemon = await DockerDaemon.StartAsync();
        await daemon.BuildShopImagesAsync("1.0", "2.0", "3.0");
        using var host = daemon.AsDockerHost();
        await using var h = await ServerHarness.StartAsync(Manifest);
        var first = await h.DeployAsync("1.0");
        await h.WaitForPhaseAsync(first.Rollout.Id, RolloutPhase.Succeeded, TimeSpan.FromMinutes(2));
        await using var load = new SteadyLoad(h.Front);
        await load.WaitForRequestsAsync(50, TimeSpan.FromSeconds(20));

        var second = await h.DeployAsync("2.0");
        var done = await h.WaitForPhaseAsync(second.Rollout.Id, RolloutPhase.Succeeded, TimeSpan.FromMinutes(2));
        await load.WaitForRequestsAsync(50, TimeSpan.FromSeconds(20));

        load.Errors.Should().BeEmpty("the canary of containers moves traffic without a client error");
        load.Versions.Keys.Should().Contain(["1.0", "2.0"]);
        done.Rollout.Phase.Should().Be(RolloutPhase.Succeeded);
        var settled = await h.WaitAsync(second.Rollout.Id, v => v.Instances.Count == 2, TimeSpan.FromSeconds(60));
        settled.Instances.Should().OnlyContain(i => i.Version == "2.0" && i.Phase == InstancePhase.Ready, "the 1.0 containers were drained and stopped");
        var running = await daemon.DockerAsync(["ps", "--filter", "label=org.gantry.version=2.0", "--format", "{{.Names}}"]);
        running.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Should().HaveCount(2, "one container per instance, labelled");
        var user = await daemon.DockerAsync(["inspect", "--format", "{{.Config.User}}", running.Stdout.Split('\n')[0]]);
        user.Stdout.Trim().Should().Be("65534:65534", "containers never run as root");
        h.Server.Reconciler.Targets.Should().ContainSingle();

        // An image that does not exist: the rollout fails at once with the engine's message, the split untouched.
        var missing = await h.DeployAsync("9.9");
        var failed = await h.WaitForPhaseAsync(missing.Rollout.Id, RolloutPhase.Failed, TimeSpan.FromSeconds(30));
        failed.Rollout.Message.Should().StartWith("9.9 cannot start: No such image: gantry-shop:9.9 (pull: ");
        await load.WaitForRequestsAsync(50, TimeSpan.FromSeconds(20));
        load.Errors.Should().BeEmpty("2.0 kept serving");

        // A release past its memory limit: killed by the kernel, shown as OOMKilled with its restarts, then aborted.
        var hungry = await h.DeployAsync("3.0", new Dictionary<string, string> { ["FAULT_ALLOCATE_MB"] = "400" });
        var aborted = await h.WaitForPhaseAsync(hungry.Rollout.Id, RolloutPhase.Aborted, TimeSpan.FromSeconds(60));
        aborted.Rollout.Message.Should().StartWith("3.0 failed its health checks: its instances were restarted").And.Contain("OOMKilled");
        await load.WaitForRequestsAsync(50, TimeSpan.FromSeconds(20));
        load.Errors.Should().BeEmpty("2.0 kept serving while 3.0 was killed");
    }

    [RequiresBinaryFact("dockerd", "docker.io", Timeout = 300_000)]
    public async Task RollingAndBlueGreenOfImages_UnderLoad_NoClientError_AndAFaultyImageIsAbortedByAnalysis()
    {
        await using var daemon = await DockerDaemon.StartAsync();
        await daemon.BuildShopImagesAsync("1.0", "2.0", "3.0");
        using var host = daemon.AsDockerHost();
        foreach (var strategy in new[] { "rolling: { maxSurge: 1, maxUnavailable: 0 }", "blueGreen: { autoPromotion: true, scaleDownDelay: 2s }" })
        {
            await using var h = await ServerHarness.StartAsync(listen => Manifest(listen, strategy));
            await h.WaitForPhaseAsync((await h.DeployAsync("1.0")).Rollout.Id, RolloutPhase.Succeeded, TimeSpan.FromMinutes(2));
            await using var load = new SteadyLoad(h.Front);
            await load.WaitForRequestsAsync(50, TimeSpan.FromSeconds(20));
            await h.WaitForPhaseAsync((await h.DeployAsync("2.0")).Rollout.Id, RolloutPhase.Succeeded, TimeSpan.FromMinutes(2));
            await load.WaitForRequestsAsync(50, TimeSpan.FromSeconds(20));
            load.Errors.Should().BeEmpty($"{strategy} of images under load");
            load.Versions.Keys.Should().Contain("2.0");
        }

        await using var judged = await ServerHarness.StartAsync(listen => Manifest(listen, """
            canary:
              steps: [{ setWeight: 50 }, { analysis: { templates: [errors] } }, { setWeight: 100 }]
              abortScaleDownDelay: 2s
            """, """
            analysis:
              errors:
                interval: 1s
                count: 3
                inconclusiveLimit: 5
                metrics:
                  - { name: error-rate, provider: { builtin: { query: error_rate } }, failWhen: "> 5%" }
            """));
        await judged.WaitForPhaseAsync((await judged.DeployAsync("1.0")).Rollout.Id, RolloutPhase.Succeeded, TimeSpan.FromMinutes(2));
        await using var traffic = new SteadyLoad(judged.Front);
        var faulty = await judged.DeployAsync("3.0", new Dictionary<string, string> { ["FAULT_ERROR_RATE"] = "0.5" });
        var aborted = await judged.WaitForPhaseAsync(faulty.Rollout.Id, RolloutPhase.Aborted, TimeSpan.FromMinutes(1));
        aborted.Rollout.Message.Should().StartWith("analysis errors failed (step 2/3): error-rate:");
    }
}
