using System.Net.Http.Json;
using Gantry.Api;
using Gantry.Core.Incidents;
using Gantry.Core.Rollouts;
using Gantry.Testing;

namespace Gantry.Server.Tests.Around;

/// <summary>A standing objective on a running service under load: a bad release burns its budget, an incident opens with the rule's severity.</summary>
[Collection(ServerTests.Name)]
public sealed class SloFunctionalTests(ITestOutputHelper log)
{
    [Fact(Timeout = 150_000)]
    public async Task BurningTheErrorBudget_OpensAnIncidentWithTheRulesSeverity_RollsBackTheRecentRelease_AndNotesTheEnd()
    {
        await using var h = await ServerHarness.StartAsync(listen => ServerHarness.ManifestText(listen, "rolling: { maxSurge: 2 }", service: """
            slos:
              availability:
                objective: 99%
                period: 1d
                severity: P2
                rollbackWithin: 10m
                alerts:
                  - { long: 20s, short: 4s, burnRate: 5, severity: P1 }
              fast:
                sli: latency
                threshold: 2s
                objective: 99%
            """));
        await h.WaitForPhaseAsync((await h.DeployAsync("v1")).Rollout.Id, RolloutPhase.Succeeded);
        await using var load = new SteadyLoad(h.Front);
        await load.WaitForRequestsAsync(200, TimeSpan.FromSeconds(20));
        await Wait.UntilAsync(async () => (await SlosAsync(h)).Single(s => s.Status.Name == "availability").Status.Total > 100, TimeSpan.FromSeconds(20), "the objective counts v1's requests");
        var calm = (await SlosAsync(h)).Single(s => s.Status.Name == "availability").Status;
        calm.Alerts.Should().ContainSingle().Which.Firing.Should().BeFalse();
        calm.BudgetLeft.Should().Be(1, "v1 answers every request");

        // No analysis: half of v2's answers are errors, and only the objective notices.
        var bad = await h.DeployAsync("v2", new() { ["FAULT_ERROR_RATE"] = "0.5" });

        Incident? incident = null;
        await Wait.UntilAsync(async () => (incident = (await h.Api.GetFromJsonAsync<List<Incident>>("/api/v1/incidents?service=shop", GantryJson.Options))!.FirstOrDefault()) is not null,
            TimeSpan.FromSeconds(30), "the burn-rate alert opens an incident");
        var burning = (await SlosAsync(h)).Single(s => s.Status.Name == "availability").Status;
        log.WriteLine($"burning: {burning.Alerts[0].LongWindow} / {burning.Alerts[0].ShortWindow}");
        burning.Alerts[0].LongWindow.Total.Should().BeGreaterThanOrEqualTo(burning.Alerts[0].ShortWindow.Total);
        incident!.Severity.Should().Be(Severity.P1, "the alert's own severity, not the objective's P2");
        incident.Title.Should().MatchRegex(@"^SLO availability burn: shop in default burns the error budget of its availability objective \(99% over 1d\) at \d+(\.\d)?x over 20s and \d+(\.\d)?x over 4s \(alert at 5x\)$");
        incident.OpenedBy.Should().Be("gantry (slo)");

        // The alert aborts the rolling update when it is still going, and rolls the release back when it is done.
        var end = await h.WaitAsync(bad.Rollout.Id, v => v.Rollout.Phase is RolloutPhase.Aborted or RolloutPhase.RolledBack, TimeSpan.FromSeconds(30));
        end.Rollout.Message.Should().Match(m => m.StartsWith("aborted by gantry (slo): alert SLO availability burn: ", StringComparison.Ordinal) || m.StartsWith("rolled back to v1 by gantry (slo)", StringComparison.Ordinal));
        log.WriteLine(end.Rollout.Message);
        await Wait.UntilAsync(async () =>
        {
            await load.SettleAsync(TimeSpan.FromSeconds(10));
            var before = load.Versions.GetValueOrDefault("v2");
            await load.WaitForRequestsAsync(200, TimeSpan.FromSeconds(10));
            await load.SettleAsync(TimeSpan.FromSeconds(10));
            return load.Versions.GetValueOrDefault("v2") == before;
        }, TimeSpan.FromSeconds(40), "v1 takes all the traffic back");
        await Wait.UntilAsync(async () => (await h.Api.GetFromJsonAsync<IncidentView>($"/api/v1/incidents/{incident.Id}", GantryJson.Options))!.Timeline
            .Any(e => e.Text.StartsWith("alert SLO availability burn resolved", StringComparison.Ordinal)), TimeSpan.FromSeconds(40), "once v1 serves again the burn ends, and the incident says so");
        var view = (await h.Api.GetFromJsonAsync<IncidentView>($"/api/v1/incidents/{incident.Id}", GantryJson.Options))!;
        view.Incident.RolloutId.Should().Be(bad.Rollout.Id, "the release rolled back is the incident's cause");
        foreach (var e in view.Timeline)
        {
            log.WriteLine($"{e.Kind}: {e.Text}");
        }

        var after = (await SlosAsync(h)).Single(s => s.Status.Name == "availability").Status;
        after.BudgetLeft.Should().BeLessThan(1, "the bad requests spent some of the day's budget");
        after.Alerts.Single().Firing.Should().BeFalse();
        log.WriteLine($"budget left {after.BudgetLeft:P1} of {after.Total} requests");
    }

    private static async Task<List<SloView>> SlosAsync(ServerHarness h) =>
        (await h.Api.GetFromJsonAsync<List<SloView>>("/api/v1/slos?service=shop", GantryJson.Options))!;
}
