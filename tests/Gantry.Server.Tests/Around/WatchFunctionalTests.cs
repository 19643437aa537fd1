using System.Diagnostics;
using System.Net.Http.Json;
using Gantry.Api;
using Gantry.Core.Dora;
using Gantry.Core.Rollouts;
using Gantry.Testing;

namespace Gantry.Server.Tests.Around;

/// <summary>A release that turns bad after promotion, on real instances under load: its watch rolls it back, with the reason.</summary>
[Collection(ServerTests.Name)]
public sealed class WatchFunctionalTests(ITestOutputHelper log)
{
    private const string Analysis = """
        analysis:
          errors:
            interval: 1s
            metrics:
              - { name: error-rate, provider: { builtin: { query: error_rate, window: 2s } }, failWhen: "> 5%" }
        """;

    [Fact(Timeout = 150_000)]
    public async Task ReleaseTurningBad20sAfterPromotion_IsRolledBackByItsWatch_WithTheReason()
    {
        await using var h = await ServerHarness.StartAsync(listen => ServerHarness.ManifestText(listen, "canary: { steps: [{ setWeight: 50 }, { pause: { duration: 1s } }] }", extra: Analysis, service: """
            watch: { for: 5m, templates: [errors], onFailure: rollback }
            """));
        await h.WaitForPhaseAsync((await h.DeployAsync("v1")).Rollout.Id, RolloutPhase.Succeeded);
        await using var load = new SteadyLoad(h.Front);
        await load.WaitForRequestsAsync(20, TimeSpan.FromSeconds(20));

        var started = Stopwatch.StartNew();
        var deploy = await h.DeployAsync("v2", new() { ["FAULT_ERROR_RATE"] = "1", ["FAULT_AFTER_SECONDS"] = "20" });
        var watching = await h.WaitForPhaseAsync(deploy.Rollout.Id, RolloutPhase.Watching, TimeSpan.FromSeconds(30));
        watching.Traffic.Should().ContainSingle(t => t.Weight > 0).Which.Version.Should().Be("v2");
        watching.Rollout.Sets.Should().Contain(s => s.Version == "v1" && s.Role == SetRole.Retired && s.RemoveAt == null, "the previous release is kept for the watch");
        watching.Rollout.Background!.Purpose.Should().Be("watch");
        log.WriteLine($"watching after {started.Elapsed.TotalSeconds:0.0} s: {watching.Rollout.Message}");

        var end = await h.WaitAsync(deploy.Rollout.Id, v => v.Rollout.Phase.IsTerminal(), TimeSpan.FromSeconds(60));
        log.WriteLine($"ended after {started.Elapsed.TotalSeconds:0.0} s: {end.Rollout.Message}");
        end.Rollout.Phase.Should().Be(RolloutPhase.RolledBack);
        end.Rollout.Message.Should().MatchRegex(@"^the watch after promotion failed: watch analysis errors failed: error-rate: \d+\.\d\d% exceeds 5% \(1 of \d+ measurements failed\); all traffic back on v1$");
        started.Elapsed.Should().BeGreaterThan(TimeSpan.FromSeconds(20), "the release was good for its first 20 s");

        await load.SettleAsync(TimeSpan.FromSeconds(10));
        var errors = load.Errors.Count;
        var v1 = load.Versions.GetValueOrDefault("v1");
        await load.WaitForRequestsAsync(200, TimeSpan.FromSeconds(20));
        load.Versions.GetValueOrDefault("v1").Should().BeGreaterThan(v1);
        load.Errors.Count.Should().Be(errors, "once rolled back, v1 answers every request");
        log.WriteLine($"{load.Requests} requests, {errors} failed while v2 was bad");

        var events = (await h.Api.GetFromJsonAsync<List<StoredEvent>>($"/api/v1/rollouts/{deploy.Rollout.Id}/events", GantryJson.Options))!;
        events.Select(e => e.Type).Should().ContainInOrder("Watching", "WatchFailed", "RolledBack");
        var dora = (await h.Api.GetFromJsonAsync<DoraReport>("/api/v1/dora", GantryJson.Options))!;
        dora.ChangeFailureRate.Samples.Should().Be(2);
        dora.ChangeFailureRate.Value.Should().Be(0.5, "the failed watch counts as a change failure");
    }
}
