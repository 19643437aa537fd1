using System.Net.Http.Json;
using Gantry.Core.Analysis;
using Gantry.Core.Rollouts;
using Gantry.Testing;

namespace Gantry.Server.Tests;

/// <summary>A real Prometheus scraping the server's /metrics, queried by a rollout's analysis.</summary>
[Collection(ServerTests.Name)]
public sealed class PrometheusAnalysisTests
{
    [RequiresBinaryFact("prometheus", "prometheus", Timeout = 180_000)]
    public async Task Analysis_PrometheusErrorRatio_AbortsAFaultyCanaryAndPassesAHealthyOne()
    {
        var apiPort = FreePort.Next();
        await using var prometheus = await PrometheusServer.StartAsync(FreePort.Next(), $"127.0.0.1:{apiPort}");
        const string ratio = """(sum(rate(gantry_proxy_requests_total{route="shop.default",group="{version}",code="5xx"}[10s])) or vector(0)) / sum(rate(gantry_proxy_requests_total{route="shop.default",group="{version}"}[10s]))""";
        await using var h = await ServerHarness.StartAsync(listen => ServerHarness.ManifestText(listen, """
            canary:
              steps:
                - setWeight: 50
                - analysis: { templates: [prom] }
              abortScaleDownDelay: 2s
            """, extra: $$"""
            analysis:
              prom:
                initialDelay: 5s
                interval: 2s
                count: 2
                metrics:
                  - name: error-ratio
                    provider: { prometheus: { address: "{{prometheus.Address}}", query: '{{ratio}}' } }
                    failWhen: "> 0.1"
            """), apiPort: apiPort);

        await h.WaitForPhaseAsync((await h.DeployAsync("v1")).Rollout.Id, RolloutPhase.Succeeded);
        await using var load = new SteadyLoad(h.Front);
        var bad = await h.DeployAsync("v2", new() { ["FAULT_ERROR_RATE"] = "0.5" });
        var aborted = await h.WaitForPhaseAsync(bad.Rollout.Id, RolloutPhase.Aborted, TimeSpan.FromSeconds(60));
        aborted.Rollout.Message.Should().MatchRegex(@"^analysis prom failed \(step 2/2\): error-ratio: 0\.\d+ exceeds 0\.1 \(1 of 1 measurements failed\)$");

        var good = await h.DeployAsync("v3");
        await h.WaitForPhaseAsync(good.Rollout.Id, RolloutPhase.Succeeded, TimeSpan.FromSeconds(60));
        var runs = await h.Api.GetFromJsonAsync<List<AnalysisRunRecord>>($"/api/v1/rollouts/{good.Rollout.Id}/analysis", GantryJson.Options);
        runs!.Single().Metrics.Single().Measurements.Should().HaveCount(2).And.OnlyContain(m => m.Phase == AnalysisPhase.Successful && m.Value < 0.1);
    }
}
