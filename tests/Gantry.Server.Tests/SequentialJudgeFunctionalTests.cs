using System.Net.Http.Json;
using Gantry.Api;
using Gantry.Core.Analysis;
using Gantry.Core.Rollouts;
using Gantry.Server.Rollouts;
using Gantry.Testing;

namespace Gantry.Server.Tests;

/// <summary>The sequential judge deciding real canaries against a fresh baseline through the router: waits, passes, aborts.</summary>
[Collection(ServerTests.Name)]
public sealed class SequentialJudgeFunctionalTests
{
    private const int Timeout = 120_000;

    private static string Manifest(Gantry.Core.Manifest.Values.Endpoint listen) => ServerHarness.ManifestText(listen, """
        canary:
          baseline: fresh
          steps:
            - setWeight: 50
            - analysis: { templates: [judged] }
          abortScaleDownDelay: 2s
        """, extra: """
        analysis:
          judged:
            interval: 1s
            count: 3
            metrics:
              - name: latency
                provider: { builtin: { query: latency } }
                judge: { method: sequential, alpha: 0.05, allowedIncrease: 10%, tolerance: 5ms }
              - name: errors
                provider: { builtin: { query: error_rate } }
                judge: { method: sequential, alpha: 0.05 }
        """);

    private static async Task<List<AnalysisRunRecord>> RunsAsync(ServerHarness h, string id) =>
        (await h.Api.GetFromJsonAsync<List<AnalysisRunRecord>>($"/api/v1/rollouts/{id}/analysis", GantryJson.Options))!;

    [Fact(Timeout = Timeout)]
    public async Task Sequential_WithoutTraffic_Waits_ThenPassesAHealthyCanaryOnceRequestsArrive()
    {
        await using var h = await ServerHarness.StartAsync(Manifest);
        await h.WaitForPhaseAsync((await h.DeployAsync("v1")).Rollout.Id, RolloutPhase.Succeeded);
        var second = await h.DeployAsync("v2");
        await h.WaitAsync(second.Rollout.Id, v => v.Rollout.Phase == RolloutPhase.Analyzing);

        // No requests: the judge waits (nothing counted), it neither fails nor passes the canary.
        await Task.Delay(3500);
        var waiting = await h.GetAsync(second.Rollout.Id);
        waiting.Rollout.Phase.Should().Be(RolloutPhase.Analyzing);
        var early = (await RunsAsync(h, second.Rollout.Id)).Single();
        early.Phase.Should().Be(AnalysisPhase.Running);
        early.Metrics.Should().OnlyContain(m => m.Count == 0 && m.Measurements.Length >= 2 && m.Measurements.All(x => x.Phase == AnalysisPhase.Pending));
        early.Metrics.Single(m => m.Name == "latency").LastSentence.Should().StartWith("latency: waiting for data: 0 canary and 0 baseline requests so far");
        early.Metrics.Single(m => m.Name == "errors").LastSentence.Should().Be("errors: waiting for data: 0 canary and 0 baseline requests so far");

        await using var load = new SteadyLoad(h.Front);
        var end = await h.WaitForPhaseAsync(second.Rollout.Id, RolloutPhase.Succeeded);
        var run = (await RunsAsync(h, end.Rollout.Id)).Single();
        run.Phase.Should().Be(AnalysisPhase.Successful);
        run.Metrics.Should().OnlyContain(m => m.Count == 3 && m.Failed == 0);
        run.Metrics.Single(m => m.Name == "latency").LastSentence.Should().MatchRegex(@"^latency: canary median [\d.]+ ms vs baseline [\d.]+ ms after [\d,]+ canary and [\d,]+ baseline requests: no evidence of a change \(anytime-valid at alpha 5%\); a canary median above [\d.]+ ms");
        run.Metrics.Single(m => m.Name == "errors").LastSentence.Should().MatchRegex(@"^errors: canary error rate 0\.00% \(0 of [\d,]+\) vs baseline 0\.00% \(0 of [\d,]+\): e-value 1 < 20 = 1/alpha: no evidence of a change; a canary error rate of [\d.]+% or more would have been detected$");
        load.Errors.Should().BeEmpty();
    }

    /// <summary>With v1 stable under steady load, v2 with <paramref name="faults"/> until the judge aborts it and all traffic is back on v1.</summary>
    private static async Task<RolloutView> AbortedAsync(ServerHarness h, Dictionary<string, string> faults)
    {
        var bad = await h.DeployAsync("v2", faults);
        var end = await h.WaitForPhaseAsync(bad.Rollout.Id, RolloutPhase.Aborted);
        end.Traffic.Should().ContainSingle().Which.Version.Should().Be("v1");
        (await RunsAsync(h, bad.Rollout.Id)).Single().Judgements.Should().NotBeEmpty();
        return end;
    }

    [Fact(Timeout = Timeout)]
    public async Task Sequential_SlowerCanary_IsAbortedWithTheQuantilesThatDiffer()
    {
        await using var h = await ServerHarness.StartAsync(Manifest);
        await h.WaitForPhaseAsync((await h.DeployAsync("v1")).Rollout.Id, RolloutPhase.Succeeded);
        await using var load = new SteadyLoad(h.Front);
        var end = await AbortedAsync(h, new() { ["FAULT_LATENCY_MS"] = "40" });
        end.Rollout.Message.Should().MatchRegex(@"latency: canary slower by more than 10% and 5ms: its (median|p\d+) is above [\d.]+ ms where the baseline's is at most [\d.]+ ms \(time-uniform bands");
    }

    [Fact(Timeout = Timeout)]
    public async Task Sequential_FailingCanary_IsAbortedOnTheEValueOfItsErrors_AndTheNextCanaryGetsAFreshBaselineAndPasses()
    {
        await using var h = await ServerHarness.StartAsync(Manifest);
        await h.WaitForPhaseAsync((await h.DeployAsync("v1")).Rollout.Id, RolloutPhase.Succeeded);
        await using var load = new SteadyLoad(h.Front);
        var end = await AbortedAsync(h, new() { ["FAULT_ERROR_RATE"] = "0.2" });
        end.Rollout.Message.Should().MatchRegex(@"errors: canary error rate \d+\.\d\d% \([\d,]+ of [\d,]+\) vs baseline 0\.00% \(0 of [\d,]+\): e-value [\d.e+]+ >= 20 = 1/alpha: the canary fails more often");

        // The aborted canary's baseline is still draining: the next canary takes it back or starts another.
        await Task.Delay(1500);
        var next = await h.DeployAsync("v3");
        var passed = await h.WaitForPhaseAsync(next.Rollout.Id, RolloutPhase.Succeeded);
        passed.Traffic.Should().ContainSingle().Which.Version.Should().Be("v3");
    }
}
