using System.Net.Http.Json;
using Gantry.Api;
using Gantry.Core.Analysis;
using Gantry.Core.Rollouts;
using Gantry.Server.Rollouts;
using Gantry.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace Gantry.Server.Tests;

/// <summary>Analysis deciding real rollouts: builtin thresholds and judge, web and command providers, inconclusive pauses.</summary>
[Collection(ServerTests.Name)]
public sealed class AnalysisFunctionalTests
{
    private const int Timeout = 120_000;

    private static string Steps(string analysisStep) => $$"""
        canary:
          steps:
            - setWeight: 50
            - {{analysisStep}}
          abortScaleDownDelay: 2s
        """;

    private static async Task<(RolloutView End, List<AnalysisRunRecord> Runs)> DeployBadAsync(ServerHarness h, Dictionary<string, string>? faults, RolloutPhase expected)
    {
        await h.WaitForPhaseAsync((await h.DeployAsync("v1")).Rollout.Id, RolloutPhase.Succeeded);
        await using var load = new SteadyLoad(h.Front);
        var second = await h.DeployAsync("v2", faults);
        var end = await h.WaitForPhaseAsync(second.Rollout.Id, expected);
        var runs = (await h.Api.GetFromJsonAsync<List<AnalysisRunRecord>>($"/api/v1/rollouts/{second.Rollout.Id}/analysis", GantryJson.Options))!;
        return (end, runs);
    }

    [Fact(Timeout = Timeout)]
    public async Task Analysis_ErrorRateAboveThreshold_AbortsWithTheSentenceAndStoresTheEvidence()
    {
        await using var h = await ServerHarness.StartAsync(listen => ServerHarness.ManifestText(listen, Steps("analysis: { templates: [errors] }"), extra: """
            analysis:
              errors:
                interval: 1s
                count: 3
                metrics:
                  - { name: error-rate, provider: { builtin: { query: error_rate } }, failWhen: "> 5%" }
                  - { name: p99, provider: { builtin: { query: latency_p99 } }, failWhen: "> 2s", dryRun: true }
            """));
        var (end, runs) = await DeployBadAsync(h, new() { ["FAULT_ERROR_RATE"] = "0.5" }, RolloutPhase.Aborted);

        end.Rollout.Message.Should().MatchRegex(@"^analysis errors failed \(step 2/2\): error-rate: \d+\.\d\d% exceeds 5% \(1 of 1 measurements failed\)$");
        var run = runs.Should().ContainSingle().Subject;
        run.Phase.Should().Be(AnalysisPhase.Failed);
        run.Metrics.Single(m => m.Name == "error-rate").Measurements.Should().ContainSingle().Which.Value.Should().BeGreaterThan(0.3);
        run.Metrics.Single(m => m.Name == "p99").DryRun.Should().BeTrue();
        end.Traffic.Should().ContainSingle().Which.Version.Should().Be("v1");
    }

    [Fact(Timeout = Timeout)]
    public async Task Analysis_BackgroundErrorRate_AbortsTheCanaryWhileItWaitsAtAPause()
    {
        await using var h = await ServerHarness.StartAsync(listen => ServerHarness.ManifestText(listen, """
            canary:
              steps:
                - setWeight: 50
                - pause: {}
              analysis: { templates: [errors] }
              abortScaleDownDelay: 2s
            """, extra: """
            analysis:
              errors:
                interval: 1s
                failureLimit: 1
                # The run starts with the rollout: on a busy machine its first measurements may come before any request
                # reached v2 (no data, inconclusive); this test is about the failures that follow.
                inconclusiveLimit: 5
                metrics:
                  - { name: error-rate, provider: { builtin: { query: error_rate } }, failWhen: "> 5%" }
            """));
        var (end, runs) = await DeployBadAsync(h, new() { ["FAULT_ERROR_RATE"] = "0.5" }, RolloutPhase.Aborted);

        end.Rollout.Message.Should().MatchRegex(@"^background analysis errors failed: error-rate: \d+\.\d\d% exceeds 5% \(2 of \d+ measurements failed\)$");
        var run = runs.Should().ContainSingle().Subject;
        run.Purpose.Should().Be("background");
        run.Metrics.Single().Failed.Should().Be(2, "failureLimit 1 tolerates one failed measurement");
        end.Traffic.Should().ContainSingle().Which.Version.Should().Be("v1");
        (await h.Api.GetFromJsonAsync<List<StoredEvent>>($"/api/v1/rollouts/{end.Rollout.Id}/events", GantryJson.Options))!.Select(e => e.Type).Should().ContainInOrder("AnalysisStarted", "TrafficShifted", "Paused", "Aborted");
    }

    [Fact(Timeout = Timeout)]
    public async Task Analysis_FreshBaseline_JudgesTheCanaryAgainstNewStableInstancesWithTheSameTraffic()
    {
        await using var h = await ServerHarness.StartAsync(listen => ServerHarness.ManifestText(listen, """
            canary:
              steps:
                - setWeight: 25
                - analysis: { templates: [judge] }
              baseline: fresh
              abortScaleDownDelay: 2s
            """, extra: """
            analysis:
              judge:
                interval: 2s
                count: 2
                metrics:
                  - name: latency
                    provider: { builtin: { query: latency } }
                    judge: { direction: increase, allowedIncrease: 50%, tolerance: 20ms, mustHaveData: true }
            """));
        await h.WaitForPhaseAsync((await h.DeployAsync("v1")).Rollout.Id, RolloutPhase.Succeeded);
        await using var load = new SteadyLoad(h.Front);
        var second = await h.DeployAsync("v2");
        var analysing = await h.WaitAsync(second.Rollout.Id, v => v.Rollout.Phase == RolloutPhase.Analyzing);
        analysing.Traffic.Select(t => (t.Version, t.Role, t.Weight)).Should().Equal(("v1", "stable", 50), ("v1", "baseline", 25), ("v2", "canary", 25));
        analysing.Instances.Select(i => i.Id).Should().Contain("shop-default-v1~baseline-0");

        var end = await h.WaitForPhaseAsync(second.Rollout.Id, RolloutPhase.Succeeded);
        var run = (await h.Api.GetFromJsonAsync<List<AnalysisRunRecord>>($"/api/v1/rollouts/{end.Rollout.Id}/analysis", GantryJson.Options))!.Single();
        run.Metrics.Single().Measurements.Should().HaveCount(2).And.OnlyContain(m => m.Baseline != null && m.Phase == AnalysisPhase.Successful);
        var metrics = await h.Api.GetStringAsync("/metrics");
        metrics.Should().MatchRegex("gantry_proxy_requests_total\\{route=\"shop.default\",group=\"v1~baseline\"[^}]*\\} [1-9]", "the baseline set served its share");
        var gone = await h.WaitAsync(second.Rollout.Id, v => v.Instances.All(i => i.Version == "v2"));
        gone.Instances.Should().HaveCount(2);
    }

    [Fact(Timeout = Timeout)]
    public async Task Analysis_FailingWithOnFailureHold_KeepsTheSplitAndWaitsForAPerson()
    {
        await using var h = await ServerHarness.StartAsync(listen => ServerHarness.ManifestText(listen, Steps("analysis: { templates: [errors], onFailure: hold }"), extra: """
            analysis:
              errors:
                interval: 1s
                metrics:
                  - { name: error-rate, provider: { builtin: { query: error_rate } }, failWhen: "> 5%" }
            """));
        var (held, _) = await DeployBadAsync(h, new() { ["FAULT_ERROR_RATE"] = "0.5" }, RolloutPhase.Paused);
        held.Rollout.Message.Should().MatchRegex(@"^analysis errors failed \(step 2/2\): error-rate: \d+\.\d\d% exceeds 5% \(1 of 1 measurements failed\); holding the current split \(onFailure: hold\): promote to go on or abort$");
        held.Traffic.Select(t => (t.Version, t.Weight)).Should().Equal(("v1", 50), ("v2", 50));

        await Task.Delay(2000);
        (await h.GetAsync(held.Rollout.Id)).Rollout.Phase.Should().Be(RolloutPhase.Paused, "it holds until a person decides");
        var aborted = await h.CommandAsync("abort", new CommandRequest("the migration can wait"));
        aborted.Rollout.Phase.Should().Be(RolloutPhase.Aborted);
    }

    [Fact(Timeout = Timeout)]
    public async Task Analysis_LatencyJudge_AbortsASlowerCanaryWithItsStatistics()
    {
        await using var h = await ServerHarness.StartAsync(listen => ServerHarness.ManifestText(listen, Steps("analysis: { templates: [judge] }"), extra: """
            analysis:
              judge:
                interval: 2s
                count: 2
                metrics:
                  - name: latency
                    provider: { builtin: { query: latency } }
                    judge: { direction: increase, confidence: 0.98, allowedIncrease: 20%, outliers: remove, mustHaveData: true }
            """));
        var (end, runs) = await DeployBadAsync(h, new() { ["FAULT_LATENCY_MS"] = "40" }, RolloutPhase.Aborted);

        end.Rollout.Message.Should().MatchRegex(@"latency: canary median \d+ ms vs baseline [\d.]+ ms \(\+\d+ ms, 98% CI \[\d+, \d+\] ms, p = [\d.]+\): higher than the baseline by more than 20%");
        runs.Single().Judgements.Should().NotBeEmpty();
    }

    [Fact(Timeout = Timeout)]
    public async Task Analysis_WebAndCommandProviders_DecideFromLocalServicesAndScripts()
    {
        // A local metrics endpoint answering JSON: the canary's error ratio is 20%.
        var port = FreePort.Next();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        await using var metrics = builder.Build();
        metrics.MapGet("/metrics/{version}", (string version) => Results.Json(new { data = new { ratios = new[] { new { errors = version == "v2" ? 0.2 : 0.0 } } } }));
        await metrics.StartAsync();

        await using var h = await ServerHarness.StartAsync(listen => ServerHarness.ManifestText(listen, Steps("analysis: { templates: [external] }"), extra: $$"""
            analysis:
              external:
                interval: 1s
                count: 2
                metrics:
                  - name: script
                    provider: { command: { args: [sh, -c, "echo checking {version} >&2; echo 0.5"] } }
                    failWhen: "> 1"
                  - name: exit-code
                    provider: { command: { args: ["true"], value: exitCode } }
                    failWhen: "!= 0"
                  - name: web-errors
                    provider: { web: { url: "http://127.0.0.1:{{port}}/metrics/{version}", jsonPath: "$.data.ratios[0].errors" } }
                    failWhen: "> 0.1"
            """));
        var (end, runs) = await DeployBadAsync(h, null, RolloutPhase.Aborted);

        end.Rollout.Message.Should().Contain("web-errors: 0.2 exceeds 0.1");
        var run = runs.Single();
        run.Metrics.Single(m => m.Name == "script").Measurements[0].Should().Match<MetricMeasurement>(m => m.Phase == AnalysisPhase.Successful && m.Value == 0.5);
        run.Metrics.Single(m => m.Name == "exit-code").Measurements[0].Value.Should().Be(0);
    }

    // Argo Rollouts analysis/analysis_test.go (errors are retried, not counted): a step analysis of count 1 whose
    // first query fails goes on to its one real measurement instead of aborting the rollout.
    [Fact(Timeout = Timeout)]
    public async Task Analysis_TransientQueryError_IsRetriedNotAnAbort()
    {
        var port = FreePort.Next();
        var calls = 0;
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        await using var metrics = builder.Build();
        metrics.MapGet("/errors", () => Interlocked.Increment(ref calls) == 1 ? Results.StatusCode(503) : Results.Json(new { value = 0.01 }));
        await metrics.StartAsync();

        await using var h = await ServerHarness.StartAsync(listen => ServerHarness.ManifestText(listen, Steps("analysis: { templates: [flaky] }"), extra: $$"""
            analysis:
              flaky:
                interval: 500ms
                metrics:
                  - { name: errors, provider: { web: { url: "http://127.0.0.1:{{port}}/errors", jsonPath: "$.value" } }, failWhen: "> 5%" }
            """));
        var (end, runs) = await DeployBadAsync(h, null, RolloutPhase.Succeeded);

        var metric = runs.Single().Metrics.Single();
        (metric.Phase, metric.Count, metric.Errors).Should().Be((AnalysisPhase.Successful, 1, 1), "the error was retried and not counted");
        metric.Measurements.Select(m => m.Phase).Should().Equal(AnalysisPhase.Error, AnalysisPhase.Successful);
        end.Rollout.Phase.Should().Be(RolloutPhase.Succeeded);
    }

    [Fact(Timeout = Timeout)]
    public async Task Analysis_UnreachableProvider_IsAnErrorNotAnException()
    {
        var port = FreePort.Next();
        await using var h = await ServerHarness.StartAsync(listen => ServerHarness.ManifestText(listen, Steps("analysis: { templates: [down] }"), extra: $$"""
            analysis:
              down:
                interval: 500ms
                count: 5
                consecutiveErrorLimit: 1
                metrics:
                  - { name: prom, provider: { prometheus: { address: "http://127.0.0.1:{{port}}", query: "up" } }, failWhen: "> 1" }
            """));
        var (end, runs) = await DeployBadAsync(h, null, RolloutPhase.Aborted);
        end.Rollout.Message.Should().Contain($"analysis down error (step 2/2): prom: prometheus at http://127.0.0.1:{port}:").And.Contain("(2 measurements in a row could not be taken)");
        runs.Single().Phase.Should().Be(AnalysisPhase.Error);
    }

    [Fact(Timeout = Timeout)]
    public async Task Health_CanaryCrashingUnderTraffic_IsAbortedForFailingItsHealthChecks()
    {
        await using var h = await ServerHarness.StartAsync(listen => ServerHarness.ManifestText(listen, Steps("pause: {}")));
        var (end, _) = await DeployBadAsync(h, new() { ["CRASH_AFTER_REQUESTS"] = "20" }, RolloutPhase.Aborted);
        end.Rollout.Message.Should().StartWith("v2 failed its health checks: its instances were restarted 3 times (last: exited with code 70)");
        end.Traffic.Should().ContainSingle().Which.Version.Should().Be("v1");
    }

    [Fact(Timeout = Timeout)]
    public async Task Analysis_NoTrafficOnTheCanary_IsInconclusiveAndPausesForAPerson()
    {
        await using var h = await ServerHarness.StartAsync(listen => ServerHarness.ManifestText(listen, """
            canary:
              steps:
                - analysis: { templates: [errors] }
                - setWeight: 50
            """, extra: """
            analysis:
              errors:
                interval: 1s
                metrics:
                  - { name: error-rate, provider: { builtin: { query: error_rate } }, failWhen: "> 5%" }
            """));
        await h.WaitForPhaseAsync((await h.DeployAsync("v1")).Rollout.Id, RolloutPhase.Succeeded);
        var second = await h.DeployAsync("v2");
        var paused = await h.WaitForPhaseAsync(second.Rollout.Id, RolloutPhase.Paused);
        paused.Rollout.Message.Should().StartWith("analysis inconclusive (step 1/2): error-rate: no data (no requests reached v2 in the last 1 s)");

        await h.CommandAsync("promote");
        await h.WaitForPhaseAsync(second.Rollout.Id, RolloutPhase.Succeeded);
    }
}
