using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using FluentAssertions;
using Gantry.Api;
using Gantry.Core.Dora;
using Gantry.Core.Incidents;
using Gantry.Core.Notifications;
using Gantry.Core.Rollouts;
using Gantry.Server.Incidents;
using Gantry.Server.Rollouts;
using Gantry.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace Gantry.Server.Tests.Incidents;

/// <summary>
/// A faulty canary in a production-like environment, end to end: its analysis aborts it, an incident of the
/// right severity is opened, a local webhook receiver gets the runbook's fields, the incident escalates when
/// nobody acknowledges it (the clock jumped ahead), and its resolution shows in time to restore. A receiver
/// that is down is retried and dead-lettered without delaying anything.
/// </summary>
[Collection(ServerTests.Name)]
public sealed class IncidentFunctionalTests
{
    private static string Manifest(Gantry.Core.Manifest.Values.Endpoint listen, int hookPort, int downPort) => ServerHarness.ManifestText(listen, """
        canary:
          steps:
            - setWeight: 50
            - analysis: { templates: [errors] }
          abortScaleDownDelay: 2s
        """, extra: $$"""
        analysis:
          errors:
            interval: 1s
            count: 3
            metrics:
              - { name: error-rate, provider: { builtin: { query: error_rate } }, failWhen: "> 5%" }
        environments:
          production: { critical: true }
        incidents:
          rules:
            - { environment: production, cause: rolledBack, severity: P1 }
            - { environment: production, cause: aborted, trafficAbove: 25%, severity: P1 }
          escalation:
            - { name: on-call, notify: [hook] }
            - { name: team-lead, after: 10m, notify: [hook] }
        notifications:
          receivers:
            hook: { webhook: { url: "http://127.0.0.1:{{hookPort}}/gantry", headers: { X-Team: shop } } }
            down: { webhook: { url: "http://127.0.0.1:{{downPort}}/gantry" } }
          subscriptions:
            - { events: [incident.opened, incident.resolved, rollout.aborted], receivers: [hook, down] }
          retry: { attempts: 3, backoff: 200ms, timeout: 10s }
        """);

    [Fact(Timeout = 180_000)]
    public async Task FaultyCanary_InProduction_OpensAP1IncidentNotifiesEscalatesAndCountsItsRestore()
    {
        var received = new ConcurrentQueue<(string Team, Notification Notification)>();
        var hookPort = FreePort.Next();
        await using var hook = await StartReceiverAsync(hookPort, received);
        var time = new ShiftedTimeProvider();
        await using var h = await ServerHarness.StartAsync(listen => Manifest(listen, hookPort, FreePort.Next()), time: time);

        await h.WaitForPhaseAsync((await h.DeployAsync("v1")).Rollout.Id, RolloutPhase.Succeeded);
        await using var load = new SteadyLoad(h.Front);
        var watch = Stopwatch.StartNew();
        var bad = await h.DeployAsync("v2", new() { ["FAULT_ERROR_RATE"] = "0.5" });
        var aborted = await h.WaitForPhaseAsync(bad.Rollout.Id, RolloutPhase.Aborted);
        var abortedAfter = watch.Elapsed;

        // The incident is opened right after the abort is committed.
        await EventuallyAsync(async () => (await h.Api.GetFromJsonAsync<List<Incident>>("/api/v1/incidents?environment=production", GantryJson.Options))!.Count > 0);
        var incidents = (await h.Api.GetFromJsonAsync<List<Incident>>("/api/v1/incidents?environment=production", GantryJson.Options))!;
        var incident = incidents.Should().ContainSingle().Subject;
        incident.Severity.Should().Be(Severity.P1, "an abort in production with 50% of the traffic on the canary is P1 by the rules");
        incident.RolloutId.Should().Be(aborted.Rollout.Id);
        incident.CauseVersion.Should().Be("v2");
        incident.Title.Should().Be("shop v2 aborted in production");
        incident.EscalationLevel.Should().Be(1, "the on-call level is paged at once");

        var view = (await h.Api.GetFromJsonAsync<IncidentView>($"/api/v1/incidents/{incident.Id}", GantryJson.Options))!;
        view.Timeline.Select(e => e.Kind).Should().StartWith(["rollout", "verdict", "opened", "escalated"]);
        view.Timeline.Single(e => e.Kind == "verdict").Text.Should().MatchRegex(@"^Aborted: analysis errors failed \(step 2/2\): error-rate: \d+\.\d\d% exceeds 5%");
        view.NextLevel.Should().Be("team-lead");

        // The receiver got the initial notification with the runbook's fields, once per event.
        // The rollout's own notification is queued after the incident's: wait for it too.
        await EventuallyAsync(() => received.Any(r => r.Notification.Event == "incident.opened") && received.Any(r => r.Notification.Event == "incident.escalated")
            && received.Any(r => r.Notification.Event == "rollout.aborted"));
        var opened = received.Single(r => r.Notification.Event == "incident.opened");
        opened.Team.Should().Be("shop");
        opened.Notification.Fields["severity"].Should().Be("P1");
        opened.Notification.Fields["services"].Should().Be("shop (production)");
        opened.Notification.Fields["status"].Should().Be("open");
        opened.Notification.Fields["impact"].Should().Be("50% of the traffic of shop in production was on v2");
        opened.Notification.Fields["actionsTaken"].Should().Be($"rollout {aborted.Rollout.Id} stopped; traffic back on the stable release");
        opened.Notification.Fields["startTime"].Should().MatchRegex(@"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$");
        opened.Notification.Fields["nextUpdate"].Should().Contain("unless acknowledged");
        opened.Notification.Text.Should().StartWith($"[P1] INC-{incident.Id} OPEN: shop v2 aborted in production\nSeverity: P1\nStart time: ");
        received.Should().ContainSingle(r => r.Notification.Event == "rollout.aborted");

        // Nobody acknowledges: ten minutes later (the clock jumps) it escalates to the team lead.
        time.Advance(TimeSpan.FromMinutes(11));
        await EventuallyAsync(() => received.Count(r => r.Notification.Event == "incident.escalated") == 2);
        var escalated = (await h.Api.GetFromJsonAsync<IncidentView>($"/api/v1/incidents/{incident.Id}", GantryJson.Options))!;
        escalated.Incident.EscalationLevel.Should().Be(2);
        escalated.Timeline.Last(e => e.Kind == "escalated").Text.Should().Be("escalated to team-lead (hook): not acknowledged 10m after on-call");
        received.Last(r => r.Notification.Event == "incident.escalated").Notification.Fields["escalationLevel"].Should().Be("team-lead");

        // Acknowledged, then resolved 30 minutes after opening (the clock jumps again): time to restore shows it.
        (await h.Api.PostAsJsonAsync($"/api/v1/incidents/INC-{incident.Id}/acknowledge", new CommandRequest("on it"), GantryJson.Options)).EnsureSuccessStatusCode();
        time.Advance(TimeSpan.FromMinutes(19));
        using (var resolve = await h.Api.PostAsJsonAsync($"/api/v1/incidents/{incident.Id}/resolve", new CommandRequest("v2 stays out; fix in v3"), GantryJson.Options))
        {
            resolve.EnsureSuccessStatusCode();
        }

        await EventuallyAsync(() => received.Any(r => r.Notification.Event == "incident.resolved"));
        received.Single(r => r.Notification.Event == "incident.resolved").Notification.Fields["status"].Should().Be("resolved");
        var dora = (await h.Api.GetFromJsonAsync<DoraReport>("/api/v1/dora?environment=production&since=1d", GantryJson.Options))!;
        dora.TimeToRestore.Samples.Should().Be(1);
        dora.TimeToRestore.Value!.Value.Should().BeInRange(0.5, 0.52, "opened, then 11 + 19 minutes of jumps and a few seconds of real time");
        dora.ChangeFailureRate.Text.Should().Be("1 of 2 rollouts rolled back or linked to an incident: 50%");

        // The receiver that is down: every notification for it tried three times, then dead-lettered, and the
        // rollout was aborted as fast as without notifications (the analysis needs about 3 s).
        await EventuallyAsync(async () => (await h.Api.GetFromJsonAsync<List<Delivery>>("/api/v1/notifications?status=dead", GantryJson.Options))!.Count >= 3);
        var dead = (await h.Api.GetFromJsonAsync<List<Delivery>>("/api/v1/notifications?status=dead", GantryJson.Options))!;
        dead.Should().OnlyContain(d => d.Receiver == "down" && d.Attempts == 3 && d.LastError != null);
        abortedAfter.Should().BeLessThan(TimeSpan.FromSeconds(30));
    }

    private static async Task<WebApplication> StartReceiverAsync(int port, ConcurrentQueue<(string, Notification)> received)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        var app = builder.Build();
        app.MapPost("/gantry", async (HttpContext http) =>
        {
            var notification = await JsonSerializer.DeserializeAsync<Notification>(http.Request.Body, GantryJson.Options);
            received.Enqueue((http.Request.Headers["X-Team"].ToString(), notification!));
            return Results.Ok();
        });
        await app.StartAsync();
        return app;
    }

    private static async Task EventuallyAsync(Func<bool> condition) => await EventuallyAsync(() => Task.FromResult(condition()));

    private static async Task EventuallyAsync(Func<Task<bool>> condition)
    {
        var watch = Stopwatch.StartNew();
        while (!await condition())
        {
            watch.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(30), "the condition should hold by then");
            await Task.Delay(100);
        }
    }
}
