using System.Net.Http.Json;
using Gantry.Api;
using Gantry.Core.Rollouts;
using Gantry.Testing;

namespace Gantry.Server.Tests;

/// <summary>A rollback in steps, under load on real instances: the split moves back share by share, no client error.</summary>
[Collection(ServerTests.Name)]
public sealed class GradualRollbackTests(ITestOutputHelper log)
{
    [Fact(Timeout = 120_000)]
    public async Task RollbackInSteps_UnderLoad_MovesTrafficBackShareByShare_WithoutAClientError()
    {
        await using var h = await ServerHarness.StartAsync(listen => ServerHarness.ManifestText(listen, "canary: { steps: [{ setWeight: 50 }], abortScaleDownDelay: 10m }"));
        await h.WaitForPhaseAsync((await h.DeployAsync("v1")).Rollout.Id, RolloutPhase.Succeeded);
        await h.WaitForPhaseAsync((await h.DeployAsync("v2")).Rollout.Id, RolloutPhase.Succeeded);
        await using var load = new SteadyLoad(h.Front);
        await load.WaitForRequestsAsync(50, TimeSpan.FromSeconds(20));

        var rollback = await h.CommandAsync("rollback", new RollbackRequest(Reason: "error rate") { Steps = "50%,0%", Every = "4s" });
        rollback.Rollout.Gradual.Should().Be(GradualRollback.Parse("50%,0%", "4s", out _));
        var half = await h.WaitAsync(rollback.Rollout.Id, v => v.Rollout.Phase == RolloutPhase.Paused, TimeSpan.FromSeconds(30));
        half.Rollout.Message.Should().Be("rollback step 1/2: 50% left on v2; the next step in 4s");
        half.Traffic.Select(t => (t.Version, t.Weight)).Should().BeEquivalentTo([("v2", 50), ("v1", 50)]);
        await load.SettleAsync(TimeSpan.FromSeconds(10));
        var before = new Dictionary<string, long>(load.Versions);
        await load.WaitForRequestsAsync(300, TimeSpan.FromSeconds(3));
        var during = load.Versions.ToDictionary(p => p.Key, p => p.Value - before.GetValueOrDefault(p.Key));
        ((double)during.GetValueOrDefault("v1") / during.Values.Sum()).Should().BeInRange(0.35, 0.65, "half the traffic is back on v1 during the first step");

        var done = await h.WaitForPhaseAsync(rollback.Rollout.Id, RolloutPhase.Succeeded, TimeSpan.FromSeconds(30));
        done.Rollout.Message.Should().Be("rolled back to v1 in 2 steps: all traffic on it");
        await load.SettleAsync(TimeSpan.FromSeconds(10));
        var v2 = load.Versions.GetValueOrDefault("v2");
        await load.WaitForRequestsAsync(200, TimeSpan.FromSeconds(20));
        load.Versions.GetValueOrDefault("v2").Should().Be(v2, "every request after the last step is answered by v1");
        load.Errors.Should().BeEmpty();
        log.WriteLine($"{load.Requests} requests, none failed");

        using var bad = await h.Api.PostAsJsonAsync("/api/v1/services/shop/rollback", new RollbackRequest() { Steps = "50%,60%" }, GantryJson.Options);
        bad.StatusCode.Should().Be(System.Net.HttpStatusCode.BadRequest);
        (await bad.Content.ReadAsStringAsync()).Should().Contain("steps: the last step must be 0% (all traffic back on the earlier release)");
        using var unknown = await h.Api.PostAsJsonAsync("/api/v1/services/shop/rollback", new RollbackRequest() { Steps = "50%,0%", Analysis = "errors,nope" }, GantryJson.Options);
        unknown.StatusCode.Should().Be(System.Net.HttpStatusCode.BadRequest);
        (await unknown.Content.ReadAsStringAsync()).Should().Contain("analysis: there is no analysis template 'errors' in the manifest");
    }
}
