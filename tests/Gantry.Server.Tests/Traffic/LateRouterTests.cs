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

    /// <summary>A router that takes tables at once but, while <see cref="Holding"/>, puts none in force (a slow load balancer, say).</summary>
    private sealed class LateRouter(ITrafficRouter inner) : ITrafficRouter
    {
        private readonly Lock gate = new();
        private ValueList<TrafficRoute>? pending;

        public bool Holding { get; set; }

        public int Pending { get; private set; }

        public string Name => "late";

        public RouterCapabilities Capabilities => inner.Capabilities;

        public async Task<TrafficApplyResult> ApplyAsync(ValueList<TrafficRoute> routes, CancellationToken ct)
        {
            lock (gate)
            {
                if (Holding)
                {
                    pending = routes;
                    Pending++;
                    return new TrafficApplyResult(true, null);
                }
            }

            return await inner.ApplyAsync(routes, ct);
        }

        public async ValueTask<ValueList<TrafficRoute>> InForceAsync(CancellationToken ct)
        {
            ValueList<TrafficRoute>? release;
            lock (gate)
            {
                release = Holding ? null : pending;
                pending = Holding ? pending : null;
            }

            if (release is { } routes)
            {
                await inner.ApplyAsync(routes, ct);
            }

            return await inner.InForceAsync(ct);
        }
    }
}
