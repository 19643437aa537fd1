using System.Net.Http.Json;
using Gantry.Api;
using Gantry.Core.Rollouts;
using Gantry.Server.Rollouts;
using Gantry.Testing;

namespace Gantry.Server.Tests;

/// <summary>Rollouts end to end: the real sample service as child processes, the real router, steady client traffic.</summary>
[Collection(ServerTests.Name)]
public sealed class RolloutFunctionalTests
{
    private const int Timeout = 180_000;

    private const string Canary = """
        canary:
          steps:
            - setWeight: 25
            - pause: { duration: 1s }
            - setHeaderRoute: { match: [{ header: x-canary, exact: "yes" }] }
            - setWeight: 50
            - pause: {}
            - setHeaderRoute: {}
          abortScaleDownDelay: 2s
        """;

    [Fact(Timeout = Timeout)]
    public async Task Deploy_CanaryUnderSteadyLoad_CompletesWithZeroClientErrors()
    {
        await using var h = await ServerHarness.StartAsync(listen => ServerHarness.ManifestText(listen, Canary));
        var first = await h.DeployAsync("v1");
        await h.WaitForPhaseAsync(first.Rollout.Id, RolloutPhase.Succeeded);

        await using var load = new SteadyLoad(h.Front);
        await load.WaitForRequestsAsync(100, TimeSpan.FromSeconds(20));
        var second = await h.DeployAsync("v2");
        second.Rollout.Strategy.Should().Be(StrategyKind.Canary);
        var paused = await h.WaitAsync(second.Rollout.Id, v => v.Rollout.Phase == RolloutPhase.Paused && v.Rollout.Step == 4);
        paused.Traffic.Should().Contain(t => t.Version == "v2" && t.Weight == 50);
        var before = load.Versions.GetValueOrDefault("v2");
        await load.WaitForRequestsAsync(200, TimeSpan.FromSeconds(20));
        load.Versions.GetValueOrDefault("v2").Should().BeGreaterThan(before, "the canary serves half the traffic");

        // Header route: a request asking for the canary gets it whatever the weights.
        using (var request = new HttpRequestMessage(HttpMethod.Get, h.Front))
        {
            request.Headers.Add("x-canary", "yes");
            using var client = new HttpClient();
            using var response = await client.SendAsync(request);
            response.Headers.GetValues("X-App-Version").Should().Equal("v2");
        }

        await h.CommandAsync("promote");
        await h.WaitForPhaseAsync(second.Rollout.Id, RolloutPhase.Succeeded);
        await Task.Delay(3000);
        await load.WaitForRequestsAsync(100, TimeSpan.FromSeconds(20));
        var after = load.Versions.GetValueOrDefault("v1");
        await load.WaitForRequestsAsync(100, TimeSpan.FromSeconds(20));
        load.Versions.GetValueOrDefault("v1").Should().Be(after, "v1 no longer serves");
        load.Errors.Should().BeEmpty();
        h.Instances.Select(i => i.Version).Should().OnlyContain(v => v == "v2");
    }

    [Fact(Timeout = Timeout)]
    public async Task Deploy_BlueGreenUnderSteadyLoad_SwitchesWithZeroClientErrors()
    {
        var preview = new Core.Manifest.Values.Endpoint("127.0.0.1", FreePort.Next());
        await using var h = await ServerHarness.StartAsync(listen => ServerHarness.ManifestText(listen, $$"""
            blueGreen:
              previewListen: {{preview}}
              autoPromotion: false
              scaleDownDelay: 30s
            """));
        await h.WaitForPhaseAsync((await h.DeployAsync("v1")).Rollout.Id, RolloutPhase.Succeeded);
        await using var load = new SteadyLoad(h.Front);
        await load.WaitForRequestsAsync(100, TimeSpan.FromSeconds(20));

        var second = await h.DeployAsync("v2");
        await h.WaitAsync(second.Rollout.Id, v => v.Rollout.Phase == RolloutPhase.Paused);
        using (var client = new HttpClient())
        using (var response = await client.GetAsync(new Uri($"http://{preview}/version")))
        {
            (await response.Content.ReadAsStringAsync()).Should().Be("v2\n", "the preview listener serves the new release");
        }

        load.Versions.Keys.Should().Equal(["v1"], "only the preview sees v2 before promotion");
        await h.CommandAsync("promote");
        var done = await h.WaitForPhaseAsync(second.Rollout.Id, RolloutPhase.Succeeded);
        done.Rollout.SetOf("v1")!.Role.Should().Be(SetRole.Retired, "the old set is kept for scaleDownDelay");
        await Task.Delay(1000);
        var v1 = load.Versions.GetValueOrDefault("v1");
        await load.WaitForRequestsAsync(200, TimeSpan.FromSeconds(20));
        load.Versions.GetValueOrDefault("v1").Should().Be(v1, "all traffic switched at once");
        load.Errors.Should().BeEmpty();
    }

    [Fact(Timeout = Timeout)]
    public async Task Deploy_RollingUnderSteadyLoad_ReplacesEveryInstanceWithZeroClientErrors()
    {
        await using var h = await ServerHarness.StartAsync(listen => ServerHarness.ManifestText(listen, "rolling: { maxSurge: 1, maxUnavailable: 0 }", replicas: 3));
        await h.WaitForPhaseAsync((await h.DeployAsync("v1")).Rollout.Id, RolloutPhase.Succeeded);
        await using var load = new SteadyLoad(h.Front);
        await load.WaitForRequestsAsync(100, TimeSpan.FromSeconds(20));

        var second = await h.DeployAsync("v2");
        second.Rollout.Strategy.Should().Be(StrategyKind.Rolling);
        await h.WaitForPhaseAsync(second.Rollout.Id, RolloutPhase.Succeeded);
        await load.WaitForRequestsAsync(100, TimeSpan.FromSeconds(20));
        load.Errors.Should().BeEmpty();
        load.Versions.Keys.Should().BeEquivalentTo(["v1", "v2"]);
        h.Instances.Should().HaveCount(3).And.OnlyContain(i => i.Version == "v2");
        var events = await h.Server.Store.EventsAsync(0, second.Rollout.Id, 1000, default);
        events.Count(e => e.Type == "ScaledUp").Should().Be(3, "one instance at a time with maxSurge 1");
    }

    [Fact(Timeout = Timeout)]
    public async Task Deploy_ReleaseNeverReady_GetsNoTrafficAndFailsByItsDeadline()
    {
        await using var h = await ServerHarness.StartAsync(listen => ServerHarness.ManifestText(listen, Canary, deadline: "5s"));
        await h.WaitForPhaseAsync((await h.DeployAsync("v1")).Rollout.Id, RolloutPhase.Succeeded);
        await using var load = new SteadyLoad(h.Front);
        var bad = await h.DeployAsync("v2", new Dictionary<string, string> { ["READY"] = "false" });
        var failed = await h.WaitForPhaseAsync(bad.Rollout.Id, RolloutPhase.Failed, TimeSpan.FromSeconds(60));
        failed.Rollout.Message.Should().StartWith("no progress for 5s (progress deadline): v2 has 0/1 instances ready");
        load.Versions.Keys.Should().Equal(["v1"]);
        load.Errors.Should().BeEmpty();
    }

    [Fact(Timeout = Timeout)]
    public async Task Abort_CanaryWithTraffic_MovesAllTrafficBackAtOnceAndRemovesTheCanary()
    {
        await using var h = await ServerHarness.StartAsync(listen => ServerHarness.ManifestText(listen, Canary));
        await h.WaitForPhaseAsync((await h.DeployAsync("v1")).Rollout.Id, RolloutPhase.Succeeded);
        await using var load = new SteadyLoad(h.Front);
        var second = await h.DeployAsync("v2");
        await h.WaitAsync(second.Rollout.Id, v => v.Rollout.Step == 4);
        var aborted = await h.CommandAsync("abort", new CommandRequest("errors in the logs"));
        aborted.Rollout.Phase.Should().Be(RolloutPhase.Aborted);
        aborted.Rollout.Message.Should().Be("aborted by local-admin: errors in the logs");
        await Task.Delay(500);
        var v2 = load.Versions.GetValueOrDefault("v2");
        await load.WaitForRequestsAsync(200, TimeSpan.FromSeconds(20));
        load.Versions.GetValueOrDefault("v2").Should().Be(v2, "no request reaches the canary after the abort");
        await h.WaitAsync(second.Rollout.Id, v => v.Instances.All(i => i.Version == "v1"), TimeSpan.FromSeconds(30));
        load.Errors.Should().BeEmpty();
    }

    [Fact(Timeout = Timeout)]
    public async Task Rollback_CompletedBlueGreen_PutsAllTrafficOnThePreviousVersionAtOnce()
    {
        await using var h = await ServerHarness.StartAsync(listen => ServerHarness.ManifestText(listen, "blueGreen: { autoPromotion: true, scaleDownDelay: 10m }"));
        await h.WaitForPhaseAsync((await h.DeployAsync("v1")).Rollout.Id, RolloutPhase.Succeeded);
        var second = await h.DeployAsync("v2");
        await h.WaitForPhaseAsync(second.Rollout.Id, RolloutPhase.Succeeded);
        await using var load = new SteadyLoad(h.Front);
        await load.WaitForRequestsAsync(50, TimeSpan.FromSeconds(20));

        var rollback = await h.CommandAsync("rollback", new RollbackRequest(Reason: "bad numbers"));
        rollback.Rollout.Kind.Should().Be(RolloutKind.Rollback);
        rollback.Rollout.Release.Version.Should().Be("v1");
        var done = await h.WaitForPhaseAsync(rollback.Rollout.Id, RolloutPhase.Succeeded, TimeSpan.FromSeconds(1));
        done.Traffic.Should().ContainSingle().Which.Should().Match<TrafficView>(t => t.Version == "v1" && t.Weight == 100);
        (await h.GetAsync(second.Rollout.Id)).Rollout.Phase.Should().Be(RolloutPhase.RolledBack);

        await Task.Delay(200);
        var v2 = load.Versions.GetValueOrDefault("v2");
        await load.WaitForRequestsAsync(200, TimeSpan.FromSeconds(20));
        load.Versions.GetValueOrDefault("v2").Should().Be(v2);
        load.Errors.Should().BeEmpty();

        using var again = await h.Api.PostAsJsonAsync("/api/v1/services/shop/rollback", new RollbackRequest(To: "v9"), GantryJson.Options);
        again.StatusCode.Should().Be(System.Net.HttpStatusCode.Conflict);
        (await again.Content.ReadAsStringAsync()).Should().Contain("shop v9 never ran as the stable release in default: a rollback only goes back to a release that did");
    }

    [Fact(Timeout = Timeout)]
    public async Task Deploy_WhileAnotherRolloutIsActive_IsRefusedWithProblemJson()
    {
        await using var h = await ServerHarness.StartAsync(listen => ServerHarness.ManifestText(listen, Canary));
        await h.WaitForPhaseAsync((await h.DeployAsync("v1")).Rollout.Id, RolloutPhase.Succeeded);
        var second = await h.DeployAsync("v2");
        using var response = await h.Api.PostAsJsonAsync("/api/v1/rollouts", new DeployRequest("shop", "v3"), GantryJson.Options);
        response.StatusCode.Should().Be(System.Net.HttpStatusCode.Conflict);
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
        (await response.Content.ReadAsStringAsync()).Should().Contain($"shop in default is busy with rollout {second.Rollout.Id} of v2");
    }
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ServerTests
{
    public const string Name = "server";
}
