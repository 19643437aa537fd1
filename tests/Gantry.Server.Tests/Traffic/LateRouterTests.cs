using System.Net.Http.Json;
using Gantry.Api;
using Gantry.Core;
using Gantry.Core.Rollouts;
using Gantry.Core.Traffic;
using Gantry.Proxy.Hosting;
using Gantry.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Gantry.Server.Tests.Traffic;

/// <summary>Set, then verify, through the real server: a router that puts a split in force late holds the rollout at its step.</summary>
[Collection(ServerTests.Name)]
public sealed class LateRouterTests
{
    private const string Canary = """
        canary:
          steps:
            - setWeight: 50
            - pause: { duration: 1s }
            - setWeight: 100
        """;

    [Fact(Timeout = 120_000)]
    public async Task SetWeight_RouterAppliesLate_EngineStaysAtTheStepUntilItVerifies()
    {
        LateRouter? late = null;
        await using var h = await ServerHarness.StartAsync(
            listen => ServerHarness.ManifestText(listen, Canary),
            configure: services => services.AddSingleton<ITrafficRouter>(sp => late = new LateRouter(sp.GetRequiredService<Hosting.RouterParts>().Traffic)));
        var first = await h.DeployAsync("v1");
        await h.WaitForPhaseAsync(first.Rollout.Id, RolloutPhase.Succeeded);

        late!.Holding = true;
        var second = await h.DeployAsync("v2");
        var waiting = await h.WaitAsync(second.Rollout.Id, v => v.Rollout.Traffic.CanaryWeight == 50);
        await Task.Delay(TimeSpan.FromSeconds(3));
        waiting = await h.GetAsync(second.Rollout.Id);
        waiting.Rollout.Step.Should().Be(0, "the router has not put the 50% split in force");
        waiting.Rollout.Message.Should().Be("step 1/3 setWeight 50: waiting for the router to confirm the split is in force");
        late.Pending.Should().BeGreaterThan(0, "the split was handed to the router");

        late.Holding = false;
        var verified = await h.WaitAsync(second.Rollout.Id, v => v.Rollout.Step >= 1, TimeSpan.FromSeconds(20));
        verified.Rollout.Phase.Should().NotBe(RolloutPhase.Aborted);
        await h.WaitForPhaseAsync(second.Rollout.Id, RolloutPhase.Succeeded);
    }

    [Fact(Timeout = 120_000)]
    public async Task FirstRelease_RouterLateToRouteToItsInstances_SucceedsOnlyOnceItDoes()
    {
        LateRouter? late = null;
        await using var h = await ServerHarness.StartAsync(
            listen => ServerHarness.ManifestText(listen, Canary),
            configure: services => services.AddSingleton<ITrafficRouter>(sp => late = new LateRouter(sp.GetRequiredService<Hosting.RouterParts>().Traffic) { HoldingInstances = true }));
        var first = await h.DeployAsync("v1");

        // The first table (the listener, all traffic to v1, no instance ready yet) is in force; the one with the
        // ready instances is held. The split is the same in both: only the instances tell them apart.
        await Wait.UntilAsync(async () => { await Task.Yield(); return h.Instances.Count(i => i.Phase == Core.Runtime.InstancePhase.Ready) == 2; }, TimeSpan.FromSeconds(30), "both instances ready");
        await Task.Delay(TimeSpan.FromSeconds(2));
        var waiting = await h.GetAsync(first.Rollout.Id);
        waiting.Rollout.Phase.Should().Be(RolloutPhase.Progressing, "no router sends the instances a request yet");
        waiting.Rollout.Message.Should().Be("v1: 2/2 instances ready, waiting for the router to route to them");
        late!.Pending.Should().BeGreaterThan(0);
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        using (var gap = await client.GetAsync(h.Front))
        {
            ((int)gap.StatusCode).Should().Be(503, "the router has no instance behind the listener yet");
        }

        late.HoldingInstances = false;
        await h.WaitForPhaseAsync(first.Rollout.Id, RolloutPhase.Succeeded, TimeSpan.FromSeconds(20));
        using var served = await client.GetAsync(h.Front);
        served.IsSuccessStatusCode.Should().BeTrue("once the release is reported running, the router routes to it");
    }

    [Fact(Timeout = 120_000)]
    public async Task FullPromotion_RouterLateToSwitch_SucceedsOnlyOnceItDoes()
    {
        LateRouter? late = null;
        await using var h = await ServerHarness.StartAsync(
            listen => ServerHarness.ManifestText(listen, "canary:\n  steps:\n    - setWeight: 50\n    - pause: {}"),
            configure: services => services.AddSingleton<ITrafficRouter>(sp => late = new LateRouter(sp.GetRequiredService<Hosting.RouterParts>().Traffic)));
        await h.WaitForPhaseAsync((await h.DeployAsync("v1")).Rollout.Id, RolloutPhase.Succeeded);
        var second = await h.DeployAsync("v2");
        await h.WaitAsync(second.Rollout.Id, v => v.Rollout.Phase == RolloutPhase.Paused);

        // Promoted in full while the router keeps the 50/50 split in force: a client told the release succeeded
        // (deploy --wait, then a smoke test) could still meet v1.
        late!.Holding = true;
        using (var promote = await h.Api.PostAsJsonAsync($"/api/v1/rollouts/{second.Rollout.Id}/promote", new CommandRequest(Full: true), GantryJson.Options))
        {
            promote.EnsureSuccessStatusCode();
        }

        await h.WaitAsync(second.Rollout.Id, v => v.Rollout.StableVersion == "v2");
        await Task.Delay(TimeSpan.FromSeconds(2));
        var waiting = await h.GetAsync(second.Rollout.Id);
        waiting.Rollout.Phase.Should().Be(RolloutPhase.Promoting, "the router has not put the switch in force");
        waiting.Rollout.Message.Should().Be("v2 promoted: it is the stable release; waiting for the router to switch");
        late.Pending.Should().BeGreaterThan(0, "the switch was handed to the router");

        late.Holding = false;
        var done = await h.WaitForPhaseAsync(second.Rollout.Id, RolloutPhase.Succeeded, TimeSpan.FromSeconds(20));
        done.Rollout.Message.Should().Be("v2 promoted: it is the stable release");
    }

    /// <summary>
    /// A router that takes tables at once but, while <see cref="Holding"/>, puts none in force (a slow load balancer,
    /// say); while <see cref="HoldingInstances"/>, none that routes to an instance.
    /// </summary>
    private sealed class LateRouter(ITrafficRouter inner) : ITrafficRouter
    {
        private readonly Lock gate = new();
        private ValueList<TrafficRoute>? pending;

        public bool Holding { get; set; }

        public bool HoldingInstances { get; set; }

        private bool Holds(ValueList<TrafficRoute> routes) => Holding || (HoldingInstances && routes.Any(r => r.Backends.Any(b => b.Instances.Count > 0)));

        public int Pending { get; private set; }

        public string Name => "late";

        public RouterCapabilities Capabilities => inner.Capabilities;

        public async Task<TrafficApplyResult> ApplyAsync(ValueList<TrafficRoute> routes, CancellationToken ct)
        {
            lock (gate)
            {
                if (Holds(routes))
                {
                    pending = routes;
                    Pending++;
                    return new TrafficApplyResult(true, null);
                }

                pending = null;
            }

            return await inner.ApplyAsync(routes, ct);
        }

        public async ValueTask<ValueList<TrafficRoute>> InForceAsync(CancellationToken ct)
        {
            ValueList<TrafficRoute>? release;
            lock (gate)
            {
                release = pending is { } held && !Holds(held) ? held : null;
                pending = release is null ? pending : null;
            }

            if (release is { } routes)
            {
                await inner.ApplyAsync(routes, ct);
            }

            return await inner.InForceAsync(ct);
        }
    }
}
