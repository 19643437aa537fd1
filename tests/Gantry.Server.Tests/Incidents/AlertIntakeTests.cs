using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Gantry.Api;
using Gantry.Core.Audit;
using Gantry.Core.Incidents;
using Gantry.Core.Rollouts;
using Gantry.Testing;

namespace Gantry.Server.Tests.Incidents;

/// <summary>
/// Alerts from a real Prometheus Alertmanager (Debian's), sent to Gantry's webhook with a token of the alerting
/// role: a critical alert opens a P0 incident and rolls back the release promoted minutes ago; a warning adds to the
/// open incident without a rollback; Alertmanager's repeats are noted once; the resolution is noted.
/// </summary>
public sealed class AlertIntakeTests
{
    private static string Manifest(Core.Manifest.Values.Endpoint listen) => ServerHarness.ManifestText(listen, "rolling: { maxSurge: 1, maxUnavailable: 0 }", replicas: 1, extra: """
        incidents:
          alerts:
            rules:
              - { match: { severity: critical }, severity: P0, rollback: 1h }
              - { match: { severity: warning }, severity: P3 }
        """);

    [RequiresBinaryFact("prometheus-alertmanager", "prometheus-alertmanager", Timeout = 180_000)]
    public async Task Alertmanager_CriticalAlert_OpensAP0IncidentAndRollsBackTheNewestRelease_AWarningAddsToIt()
    {
        await using var h = await ServerHarness.StartAsync(Manifest);
        await h.WaitForPhaseAsync((await h.DeployAsync("v1")).Rollout.Id, RolloutPhase.Succeeded);
        var v2 = await h.WaitForPhaseAsync((await h.DeployAsync("v2")).Rollout.Id, RolloutPhase.Succeeded);
        var token = (await h.Server.Tokens.CreateAsync(new TokenRequest("alertmanager", ["alerting"]), new AuditContext("test"), default)).Value!.Secret;
        var store = h.Server.Store;
        await using var alertmanager = await AlertmanagerServer.StartAsync(new Uri(h.Server.Address, "/api/v1/alerts"), token);

        var critical = new Dictionary<string, string> { ["alertname"] = "ShopErrors", ["service"] = "shop", ["severity"] = "critical" };
        await alertmanager.FireAsync(critical, new Dictionary<string, string> { ["summary"] = "5xx above 5% for 1m" });
        RolloutState? rollback = null;
        await Wait.UntilAsync(async () => (rollback = (await store.ListAsync(new RolloutQuery("shop", null, Limit: 1), default)).FirstOrDefault(r => r.Kind == RolloutKind.Rollback)) is not null, TimeSpan.FromSeconds(30), "Alertmanager's webhook starts a rollback: " + alertmanager.Log);
        rollback!.Release.Version.Should().Be("v1");
        rollback.CreatedBy.Should().Be("alertmanager");
        await h.WaitForPhaseAsync(rollback.Id, RolloutPhase.Succeeded);

        var incident = (await store.IncidentsAsync(new IncidentQuery("shop"), default)).Should().ContainSingle().Subject;
        incident.Should().Match<Incident>(i => i.Severity == Severity.P0 && i.Title == "ShopErrors: 5xx above 5% for 1m" && i.OpenedBy == "alertmanager" && i.Status == IncidentStatus.Open);
        var timeline = await store.TimelineAsync(incident.Id, default);
        timeline.Select(e => e.Text).Should().Contain(t => t.StartsWith("alert ShopErrors firing: 5xx above 5% for 1m [", StringComparison.Ordinal))
            .And.Contain($"rolling back shop v2 to v1 ({rollback.Id})");
        var audit = await store.AuditAsync(new AuditQuery("shop/default"), default);
        audit.Should().Contain(e => e.Actor == "alertmanager" && e.Reason == "alert ShopErrors: 5xx above 5% for 1m", "the rollback is the alert's, with the alert as its reason");

        // A warning: added to the open incident, no rollback. Then the critical alert ends.
        await alertmanager.FireAsync(new Dictionary<string, string> { ["alertname"] = "ShopLatency", ["service"] = "shop", ["severity"] = "warning" }, new Dictionary<string, string> { ["summary"] = "p99 above 500ms" });
        await alertmanager.FireAsync(critical, new Dictionary<string, string> { ["summary"] = "5xx above 5% for 1m" }, resolved: true);
        await Wait.UntilAsync(async () => (await store.TimelineAsync(incident.Id, default)).Any(e => e.Text.StartsWith("alert ShopErrors resolved", StringComparison.Ordinal))
            && (await store.TimelineAsync(incident.Id, default)).Any(e => e.Text.StartsWith("alert ShopLatency firing: p99 above 500ms", StringComparison.Ordinal)), TimeSpan.FromSeconds(30), "the warning and the resolution are noted: " + alertmanager.Log);
        (await store.IncidentsAsync(new IncidentQuery("shop"), default)).Should().ContainSingle("alerts of a service add to its open incident");
        (await store.ListAsync(new RolloutQuery("shop", null, Limit: 10), default)).Select(r => r.Kind).Should().Equal([RolloutKind.Rollback, RolloutKind.Deploy, RolloutKind.Deploy], "the warning rolls nothing back");
        (await store.TimelineAsync(incident.Id, default)).Count(e => e.Text.StartsWith("alert ShopErrors firing", StringComparison.Ordinal)).Should().Be(1, "Alertmanager's repeats are noted once");
        _ = v2;
    }

    [Fact(Timeout = 120_000)]
    public async Task Webhook_ByRoleAndLabels_RefusesOtherRolesAndSaysWhatItLeftAlone()
    {
        await using var h = await ServerHarness.StartAsync(listen => ServerHarness.ManifestText(listen, "rolling: { maxSurge: 1, maxUnavailable: 0 }", replicas: 1, extra: """
            environments:
              staging: {}
              production: {}
            """));
        var alerting = (await h.Server.Tokens.CreateAsync(new TokenRequest("alertmanager", ["alerting"], Environments: ["production"]), new AuditContext("test"), default)).Value!.Secret;
        var deployer = (await h.Server.Tokens.CreateAsync(new TokenRequest("bob", ["deployer"]), new AuditContext("test"), default)).Value!.Secret;
        using var client = new HttpClient { BaseAddress = h.Server.Address };
        var hook = new AlertmanagerWebhook("4", "firing", "gantry",
        [
            new AlertmanagerAlert("firing", new Dictionary<string, string> { ["alertname"] = "Disk", ["service"] = "billing" }, Fingerprint: "a1"),
            new AlertmanagerAlert("firing", new Dictionary<string, string> { ["alertname"] = "NoService" }, Fingerprint: "a2"),
            new AlertmanagerAlert("firing", new Dictionary<string, string> { ["alertname"] = "ShopErrors", ["service"] = "shop", ["severity"] = "critical" }, Fingerprint: "a3"),
        ]);

        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", deployer);
        using (var refused = await client.PostAsJsonAsync("/api/v1/alerts", hook, GantryJson.Options))
        {
            refused.StatusCode.Should().Be(HttpStatusCode.Forbidden, "a deployer's token cannot send alerts");
        }

        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", alerting);
        using var answer = await client.PostAsJsonAsync("/api/v1/alerts", hook, GantryJson.Options);
        answer.StatusCode.Should().Be(HttpStatusCode.OK);
        var outcomes = (await answer.Content.ReadFromJsonAsync<AlertIntakeAnswer>(GantryJson.Options))!.Alerts;
        outcomes.Select(o => o.Action).Should().Equal(
            "ignored: Disk: there is no service 'billing' in the manifest",
            "ignored: NoService: no 'service' label names a service",
            "refused: alertmanager may not act in staging");
        (await h.Server.Store.IncidentsAsync(new IncidentQuery(), default)).Should().BeEmpty();
    }
}
