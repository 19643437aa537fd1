using Gantry.Core.Rollouts;
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
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ServerTests
{
    public const string Name = "server";
}
