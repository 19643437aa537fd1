using System.Diagnostics;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using Gantry.Api;
using Gantry.Core.Rollouts;
using Gantry.Core.Runtime;
using Gantry.Testing;

namespace Gantry.Server.Tests.Runtime;

/// <summary>
/// Retained releases on a real Docker engine: a rollback to a kept release is a start (or only a switch) and a
/// switch, under load within 2 s, or within a second more than the engine itself takes to start two like containers
/// in the same run where that is longer; pruning keeps the newest releases and the images they need; secret variables
/// never show in `docker inspect`; the engine's CPU and memory readings judge a canary.
/// </summary>
[Collection(ServerTests.Name)]
public sealed class DockerRetentionTests
{
    private static string Manifest(Core.Manifest.Values.Endpoint listen, string retain, string image = "gantry-kept", string strategy = "canary: { steps: [{ setWeight: 50 }, { pause: { duration: 1s } }] }", string extra = "") => $$"""
        version: 1
        services:
          shop:
            docker:
              image: "{{image}}:{version}"
              args: [--urls, "http://127.0.0.1:{port}"]
              env: { APP_VERSION: "{version}" }
              stopTimeout: 5s
              memory: 256
              {{retain}}
            listen: {{listen}}
            replicas: 2
            drain: 1s
            health:
              startup:   { path: /health, interval: 100ms, failureThreshold: 100 }
              readiness: { path: /health/ready, interval: 100ms, failureThreshold: 2 }
            progressDeadline: 2m
            strategy:
              {{strategy}}
        {{extra}}
        """;

    private static async Task<DockerDaemon> EngineWithImagesAsync(string repository, params string[] versions)
    {
        var daemon = await DockerDaemon.StartAsync();
        await daemon.BuildShopImagesAsync(versions);
        foreach (var version in versions.Where(_ => repository != "gantry-shop"))
        {
            // Tags of their own, so that image cleanup in this test touches no other test's images.
            (await daemon.DockerAsync(["tag", $"gantry-shop:{version}", $"{repository}:{version}"])).ExitCode.Should().Be(0);
        }

        return daemon;
    }

    private static async Task<string[]> ContainersAsync(DockerDaemon daemon, string version, string status)
    {
        var listed = await daemon.DockerAsync(["ps", "-a", "--no-trunc", "--filter", $"label=org.gantry.version={version}", "--filter", $"status={status}", "--format", "{{.ID}}"]);
        return [.. listed.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal)];
    }

    private static async Task<RolloutView> DeployAndWaitAsync(ServerHarness h, string version, Dictionary<string, string>? set = null)
    {
        var deployed = await h.DeployAsync(version, set);
        return await h.WaitForPhaseAsync(deployed.Rollout.Id, RolloutPhase.Succeeded, TimeSpan.FromMinutes(2));
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    /// <summary>
    /// The peer of a rollback to a stopped release: two containers of <paramref name="image"/> made as the runtime
    /// makes them (host network, the same memory limit), started once and stopped, then started at once with the
    /// docker CLI until both answer <c>/health/ready</c> (polled every 5 ms); removed afterwards.
    /// </summary>
    private static async Task<TimeSpan> EngineStartToReadyAsync(DockerDaemon daemon, string image)
    {
        var ports = new[] { FreePort.Next(), FreePort.Next() };
        var names = ports.Select(p => $"gantry-peer-{p}").ToArray();
        try
        {
            foreach (var (name, port) in names.Zip(ports))
            {
                (await daemon.DockerAsync(["create", "--name", name, "--network", "host", "--memory", "256m", "-e", "APP_VERSION=peer", image, "--urls", $"http://127.0.0.1:{port}"])).ExitCode.Should().Be(0);
            }

            await StartAndWaitAsync();
            (await daemon.DockerAsync(["stop", "-t", "5", .. names])).ExitCode.Should().Be(0);
            var watch = Stopwatch.StartNew();
            await StartAndWaitAsync();
            return watch.Elapsed;
        }
        finally
        {
            await daemon.DockerAsync(["rm", "-f", .. names]);
        }

        async Task StartAndWaitAsync()
        {
            await Task.WhenAll(names.Select(name => daemon.DockerAsync(["start", name])));
            using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
            var limit = Stopwatch.StartNew();
            foreach (var port in ports)
            {
                while (!await ReadyAsync(client, port))
                {
                    limit.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(30), "the peer containers get ready");
                    await Task.Delay(5);
                }
            }
        }
    }

    private static async Task<bool> ReadyAsync(HttpClient client, int port)
    {
        try
        {
            using var ready = await client.GetAsync(new Uri($"http://127.0.0.1:{port}/health/ready"));
            return ready.IsSuccessStatusCode;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }

    /// <summary>From the rollback command to all traffic on the kept release, as the router has it in force (seen by the clients under load).</summary>
    private static async Task<TimeSpan> RollBackAsync(ServerHarness h, SteadyLoad load, string to)
    {
        var watch = Stopwatch.StartNew();
        var rollback = await h.CommandAsync("rollback", new RollbackRequest(Reason: "bad numbers"));
        rollback.Rollout.Release.Version.Should().Be(to);
        await h.WaitForPhaseAsync(rollback.Rollout.Id, RolloutPhase.Succeeded, TimeSpan.FromSeconds(30));
        var elapsed = watch.Elapsed;
        var before = load.Versions.GetValueOrDefault(to);
        await load.WaitForRequestsAsync(40, TimeSpan.FromSeconds(20));
        load.Versions.GetValueOrDefault(to).Should().BeGreaterThan(before, "the clients reach the kept release");
        return elapsed;
    }

    [RequiresBinaryFact("dockerd", "docker.io", Timeout = 420_000)]
    public async Task Rollback_ToARetainedRelease_StartsItsContainersAgain_Within2s_UnderLoad_AndPruningKeepsTheNewest()
    {
        await using var daemon = await EngineWithImagesAsync("gantry-kept", "1.0", "2.0", "3.0", "4.0");
        using var host = daemon.AsDockerHost();
        await using var h = await ServerHarness.StartAsync(listen => Manifest(listen, "retain: { releases: 2, for: 1h }"));
        await DeployAndWaitAsync(h, "1.0");
        await using var load = new SteadyLoad(h.Front);
        await load.WaitForRequestsAsync(50, TimeSpan.FromSeconds(20));
        var first = await ContainersAsync(daemon, "1.0", "running");
        first.Should().HaveCount(2);
        await DeployAndWaitAsync(h, "2.0");
        await Wait.UntilAsync(async () => (await ContainersAsync(daemon, "1.0", "exited")).Length == 2, TimeSpan.FromSeconds(30), "1.0's containers kept, stopped");

        // The engine's own cost, measured in this run under the same load: two stopped containers of the same image
        // started at once until both answer. A rollback is that and a switch: at most a second more (and 2 s, as the
        // issue asked, whenever the engine is faster than that here).
        var engine = await EngineStartToReadyAsync(daemon, "gantry-kept:1.0");
        var elapsed = await RollBackAsync(h, load, "1.0");
        Console.WriteLine($"rollback to a stopped release {elapsed.TotalMilliseconds:F0} ms; the engine alone {engine.TotalMilliseconds:F0} ms");
        elapsed.Should().BeLessThan(Max(TimeSpan.FromSeconds(2), engine + TimeSpan.FromSeconds(1)), "a rollback to a retained release is a start and a switch");
        (await ContainersAsync(daemon, "1.0", "running")).Should().Equal(first, "the very containers of 1.0 were started again, not created");
        load.Errors.Should().BeEmpty();

        // 2.0 left at the rollback, 1.0 at 3.0's deploy, 3.0 at 4.0's: with two kept, 2.0 and its image go.
        await DeployAndWaitAsync(h, "3.0");
        await DeployAndWaitAsync(h, "4.0");
        await Wait.UntilAsync(async () => (await ContainersAsync(daemon, "2.0", "exited")).Length == 0, TimeSpan.FromSeconds(30), "2.0 pruned");
        (await ContainersAsync(daemon, "1.0", "exited")).Should().HaveCount(2, "1.0 is one of the two newest releases kept");
        // 3.0 leaves traffic when 4.0 succeeds and stops after its drain: wait for it rather than race it.
        await Wait.UntilAsync(async () => (await ContainersAsync(daemon, "3.0", "exited")).Length == 2, TimeSpan.FromSeconds(30), "3.0's containers kept, stopped");
        var images = (await daemon.DockerAsync(["images", "gantry-kept", "--format", "{{.Tag}}"])).Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        images.Should().BeEquivalentTo(["1.0", "3.0", "4.0"], "the image of a pruned release goes; those kept releases need stay");
        load.Errors.Should().BeEmpty();
        Console.WriteLine($"rollback to a retained (stopped) release: {elapsed.TotalMilliseconds:F0} ms to 100%");
        File.AppendAllText(Path.Combine(Path.GetTempPath(), "gantry-rollback-figures.txt"), $"stopped {elapsed.TotalMilliseconds:F0} engine {engine.TotalMilliseconds:F0}\n");
    }

    [RequiresBinaryFact("dockerd", "docker.io", Timeout = 300_000)]
    public async Task Rollback_ToAWarmRelease_IsOnlyASwitch_SameContainersAndProcesses()
    {
        await using var daemon = await EngineWithImagesAsync("gantry-shop", "1.0", "2.0");
        using var host = daemon.AsDockerHost();
        await using var h = await ServerHarness.StartAsync(listen => Manifest(listen, "retain: { releases: 1, warm: true }", image: "gantry-shop"));
        await DeployAndWaitAsync(h, "1.0");
        await using var load = new SteadyLoad(h.Front);
        var first = await ContainersAsync(daemon, "1.0", "running");
        var pids = (await daemon.DockerAsync(["inspect", "--format", "{{.State.Pid}}", .. first])).Stdout;
        await DeployAndWaitAsync(h, "2.0");
        await Wait.UntilAsync(() => Task.FromResult(h.Instances.All(i => i.Version == "2.0")), TimeSpan.FromSeconds(30), "1.0 out of the runtime's sets");
        (await ContainersAsync(daemon, "1.0", "running")).Should().Equal(first, "warm: kept running, out of traffic");
        var versionsBefore = load.Versions.GetValueOrDefault("1.0");
        await load.WaitForRequestsAsync(40, TimeSpan.FromSeconds(20));
        load.Versions.GetValueOrDefault("1.0").Should().Be(versionsBefore, "a warm release gets no traffic");

        var elapsed = await RollBackAsync(h, load, "1.0");
        elapsed.Should().BeLessThan(TimeSpan.FromSeconds(2));
        (await daemon.DockerAsync(["inspect", "--format", "{{.State.Pid}}", .. first])).Stdout.Should().Be(pids, "the same processes: only the split moved");
        load.Errors.Should().BeEmpty();
        File.AppendAllText(Path.Combine(Path.GetTempPath(), "gantry-rollback-figures.txt"), $"warm {elapsed.TotalMilliseconds:F0}\n");
    }

    [RequiresBinaryFact("dockerd", "docker.io", Timeout = 300_000)]
    public async Task Secrets_AreFilesNeverInInspect_AndTheEnginesMemoryReadingAbortsAHungryCanary()
    {
        await using var daemon = await EngineWithImagesAsync("gantry-shop", "1.0", "2.0");
        using var host = daemon.AsDockerHost();
        await using var h = await ServerHarness.StartAsync(listen => Manifest(listen, "readOnly: true", image: "gantry-shop",
            strategy: "canary: { steps: [{ setWeight: 50 }, { analysis: { templates: [resources] } }, { setWeight: 100 }], abortScaleDownDelay: 2s }",
            extra: """
            analysis:
              resources:
                interval: 1s
                count: 3
                metrics:
                  - { name: memory, provider: { builtin: { query: memory } }, failWhen: "> 150" }
                  - { name: cpu, provider: { builtin: { query: cpu } }, failWhen: "> 95%" }
            """));
        const string Key = "pk_live_hunter2";
        using var response = await h.Api.PostAsJsonAsync("/api/v1/rollouts", new DeployRequest("shop", "1.0", Set: new Dictionary<string, string> { ["SHOP_PAYMENT_KEY"] = Key }, Secret: ["SHOP_PAYMENT_KEY"]), GantryJson.Options);
        response.IsSuccessStatusCode.Should().BeTrue(await response.Content.ReadAsStringAsync());
        var first = (await response.Content.ReadFromJsonAsync<RolloutView>(GantryJson.Options))!;
        await h.WaitForPhaseAsync(first.Rollout.Id, RolloutPhase.Succeeded, TimeSpan.FromMinutes(2));

        var containers = await ContainersAsync(daemon, "1.0", "running");
        var inspected = (await daemon.DockerAsync(["inspect", .. containers])).Stdout;
        inspected.Should().NotContain(Key, "a secret is a file under /run/secrets, never an environment variable the engine shows");
        inspected.Should().Contain("SHOP_PAYMENT_KEY_FILE=/run/secrets/SHOP_PAYMENT_KEY");
        using var client = new HttpClient();
        using var answer = await client.GetAsync(new Uri(h.Front, "/payment-key"));
        var reached = await answer.Content.ReadAsStringAsync();
        answer.IsSuccessStatusCode.Should().BeTrue($"{answer.StatusCode} {reached}; {(await daemon.DockerAsync(["logs", containers[0]])).Stderr}");
        reached.Trim().Should().Be("sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Key))), "the instance reads the key from its file");
        (await daemon.DockerAsync(["inspect", "--format", "{{.HostConfig.ReadonlyRootfs}}", containers[0]])).Stdout.Trim().Should().Be("true");

        // 200 MiB taken at start (under the 256 MiB limit, so no kill): the engine's memory reading aborts the canary.
        await using var load = new SteadyLoad(h.Front);
        var hungry = await h.DeployAsync("2.0", new Dictionary<string, string> { ["FAULT_ALLOCATE_MB"] = "200" });
        var aborted = await h.WaitForPhaseAsync(hungry.Rollout.Id, RolloutPhase.Aborted, TimeSpan.FromMinutes(1));
        aborted.Rollout.Message.Should().StartWith("analysis resources failed (step 2/3): memory:");
        load.Errors.Should().BeEmpty();
    }
}
