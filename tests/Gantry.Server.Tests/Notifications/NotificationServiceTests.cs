using System.Collections.Concurrent;
using System.Text.Json;
using FluentAssertions;
using Gantry.Api;
using Gantry.Core.Audit;
using Gantry.Core.Incidents;
using Gantry.Core.Manifest;
using Gantry.Core.Notifications;
using Gantry.Core.Rollouts;
using Gantry.Core.Strategies;
using Gantry.Server.Incidents;
using Gantry.Server.Notifications;
using Gantry.Server.Rollouts;
using Gantry.Storage.Sqlite;
using Gantry.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gantry.Server.Tests.Notifications;

/// <summary>
/// Incidents and notifications on a fake clock over a real SQLite store: Slack-compatible and log receivers,
/// retries with a doubling back-off then a dead letter, and escalation that survives a restart of the server.
/// </summary>
public sealed class NotificationServiceTests : IAsyncLifetime
{
    private readonly string folder = Directory.CreateTempSubdirectory("gantry-notify-").FullName;
    private readonly ConcurrentQueue<string> slack = new();
    private readonly FakeTimeProvider time = new(new DateTimeOffset(2026, 3, 3, 9, 0, 0, TimeSpan.Zero));
    private readonly HttpClient http = new(new SocketsHttpHandler { UseProxy = false });
    private WebApplication receiver = null!;
    private int port;

    public async ValueTask InitializeAsync()
    {
        port = FreePort.Next();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        receiver = builder.Build();
        receiver.MapPost("/slack", async (HttpContext context) =>
        {
            using var reader = new StreamReader(context.Request.Body);
            slack.Enqueue(await reader.ReadToEndAsync());
            return Results.Ok();
        });
        await receiver.StartAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await receiver.DisposeAsync();
        http.Dispose();
        Directory.Delete(folder, recursive: true);
    }

    private GantryManifest Manifest(int downPort) => ManifestLoader.LoadText(ManifestText(downPort)).Manifest!;

    private string ManifestText(int downPort) => $$"""
        services:
          shop: { process: { command: app, args: ["{port}"] }, listen: 127.0.0.1:8080, health: { readiness: { path: /ready } }, strategy: { canary: { steps: [ { setWeight: 40 } ] } } }
        environments:
          production: {}
        incidents:
          escalation:
            - { name: on-call, notify: [chat] }
            - { name: team-lead, after: 15m, notify: [chat, journal] }
            - { name: engineering-manager, after: 30m, notify: [journal] }
        notifications:
          receivers:
            chat: { slack: { url: "http://127.0.0.1:{{port}}/slack" } }
            journal: { log: { path: notifications.jsonl } }
            down: { webhook: { url: "http://127.0.0.1:{{downPort}}/hook" } }
          subscriptions:
            - { events: [incident.opened, incident.resolved, rollout.aborted], receivers: [journal, down] }
          retry: { attempts: 4, backoff: 1s, timeout: 10s }
          templates:
            rollout.aborted: |
              :x: {title}
              {impact}, {status}; severity {severity}
        """;

    [Fact(Timeout = 60_000)]
    public async Task Slack_UserTextIsEscaped_TheTemplatesOwnMarkupIsNot()
    {
        var text = ManifestText(FreePort.Next()).Replace("  templates:\n", "  templates:\n    incident.escalated: \"<@U024BE7LH> {title} ({impact})\"\n", StringComparison.Ordinal);
        var (store, incidents, notifications) = Start(ManifestLoader.LoadText(text).Manifest!);
        var opened = await incidents.OpenAsync(new OpenIncidentRequest("<!channel> pay <http://evil.example|click here> & more", "P1", "shop", "production", null, "<!here> 5%"), new AuditContext("mallory"), default);
        opened.Problem.Should().BeNull();
        await notifications.DeliverDueAsync(default);

        var sent = JsonDocument.Parse(slack.Single()).RootElement.GetProperty("text").GetString();
        sent.Should().StartWith("<@U024BE7LH> ", "the template's own mention stays a mention")
            .And.Contain("&lt;!channel&gt; pay &lt;http://evil.example|click here&gt; &amp; more").And.EndWith("(&lt;!here&gt; 5%)");
        sent.Should().NotContain("<!channel>").And.NotContain("<!here>").And.NotContain("<http");
        await notifications.DisposeAsync();
        await store.DisposeAsync();
    }

    private (SqliteStore Store, IncidentService Incidents, NotificationService Notifications) Start(GantryManifest manifest)
    {
        var store = SqliteStore.Open(Path.Combine(folder, "gantry.db"), time);
        var notifiers = new Dictionary<string, INotifier>(StringComparer.Ordinal)
        {
            ["webhook"] = new WebhookNotifier(http),
            ["slack"] = new SlackNotifier(http),
            ["log"] = new LogNotifier(folder),
        };
        var notifications = new NotificationService(manifest, store, notifiers, time, NullLogger<NotificationService>.Instance);
        var incidents = new IncidentService(manifest, store, store, time, notifications);
        return (store, incidents, notifications);
    }

    [Fact(Timeout = 60_000)]
    public async Task Escalate_NotAcknowledged_ClimbsTheLevelsOnTheClockAndSurvivesARestart()
    {
        var manifest = Manifest(FreePort.Next());
        var (store, incidents, notifications) = Start(manifest);
        var opened = await incidents.OpenAsync(new OpenIncidentRequest("checkout errors", "P1", "shop", "production", null, "card payments fail for 30% of users"), new AuditContext("alice"), default);
        opened.Problem.Should().BeNull();
        var id = opened.Value!.Incident.Id;
        opened.Value.Incident.EscalationLevel.Should().Be(1, "the first level (after 0s) is paged at once");
        opened.Value.Incident.Revision.Should().Be(1, "opened and paged in one commit: nobody sees it open and not yet paged");
        var audit = await store.AuditAsync(new Core.Audit.AuditQuery(Target: opened.Value.Incident.Key), default);
        audit.Select(e => e.Action).Should().Equal(["incident.opened", "incident.escalated"], "the page is audited with the opening");
        opened.Value.NextLevel.Should().Be("team-lead");
        opened.Value.NextEscalationAt.Should().Be(time.GetUtcNow().AddMinutes(15));

        time.Advance(TimeSpan.FromMinutes(14));
        await incidents.EscalateDueAsync(default);
        (await store.IncidentAsync(id, default))!.EscalationLevel.Should().Be(1);

        // The server stops and starts again: the escalation state is in the store, and the clock goes on.
        await notifications.DisposeAsync();
        await store.DisposeAsync();
        (store, incidents, notifications) = Start(manifest);
        time.Advance(TimeSpan.FromMinutes(1));
        await incidents.EscalateDueAsync(default);
        var incident = (await store.IncidentAsync(id, default))!;
        incident.EscalationLevel.Should().Be(2);
        incident.EscalatedAt.Should().Be(time.GetUtcNow());

        // Acknowledged before the third level: no more escalation, whatever the clock says.
        (await incidents.MoveAsync(id, IncidentStatus.Acknowledged, "looking", new AuditContext("bob"), default)).Problem.Should().BeNull();
        time.Advance(TimeSpan.FromHours(2));
        await incidents.EscalateDueAsync(default);
        (await store.IncidentAsync(id, default))!.EscalationLevel.Should().Be(2);
        var timeline = await store.TimelineAsync(id, default);
        timeline.Select(e => e.Kind).Should().Equal("opened", "escalated", "escalated", "acknowledged");
        timeline[2].Text.Should().Be("escalated to team-lead (chat, journal): not acknowledged 15m after on-call");

        // Resolved: a resolution notice, and moving backwards is refused.
        (await incidents.MoveAsync(id, IncidentStatus.Resolved, "rolled back to 1.0", new AuditContext("bob"), default)).Value!.Incident.TimeToRestore.Should().Be(TimeSpan.FromHours(2) + TimeSpan.FromMinutes(15));
        (await incidents.MoveAsync(id, IncidentStatus.Mitigated, null, new AuditContext("bob"), default)).Problem!.Detail.Should().Be($"INC-{id} is already resolved: an incident only moves forward (open, acknowledged, mitigated, resolved)");

        // Deliveries: the Slack-compatible receiver gets {"text": ...}, the log receiver JSON lines.
        await notifications.DeliverDueAsync(default);
        slack.Should().HaveCount(2, "the on-call page and the team-lead escalation");
        JsonDocument.Parse(slack.First()).RootElement.GetProperty("text").GetString().Should().StartWith($"[P1] INC-{id} OPEN: checkout errors\nSeverity: P1\nStart time: 2026-03-03 09:00:00Z\nServices affected: shop (production)\nImpact: card payments fail for 30% of users\nStatus: open");
        var lines = await File.ReadAllLinesAsync(Path.Combine(folder, "notifications.jsonl"));
        lines.Select(l => JsonSerializer.Deserialize<Notification>(l, GantryJson.Options)!.Event).Should().Equal("incident.opened", "incident.escalated", "incident.resolved");
        JsonSerializer.Deserialize<Notification>(lines[^1], GantryJson.Options)!.Fields["nextUpdate"].Should().Be("none: resolved");

        // The receiver that is down: 4 attempts, 1 s, 2 s, 4 s apart, then a dead letter with the last error.
        for (var attempt = 2; attempt <= 4; attempt++)
        {
            (await store.DeliveriesAsync(DeliveryStatus.Pending, 10, default)).Where(d => d.Receiver == "down").Should().OnlyContain(d => d.Attempts == attempt - 1);
            time.Advance(TimeSpan.FromSeconds(1 << (attempt - 2)));
            await notifications.DeliverDueAsync(default);
        }

        var dead = await store.DeliveriesAsync(DeliveryStatus.Dead, 10, default);
        dead.Should().HaveCount(2).And.OnlyContain(d => d.Receiver == "down" && d.Attempts == 4 && d.LastError!.Length > 0);
        await notifications.DisposeAsync();
        await store.DisposeAsync();
    }

    [Fact(Timeout = 30_000)]
    public async Task Follow_CommitsMadeBeforeACrash_OpenTheirIncidentAndNotifyOnceHoweverOftenHandedOver()
    {
        var manifest = Manifest(FreePort.Next());
        var (store, incidents, notifications) = Start(manifest);

        // What the reconciler committed before the server died: a canary at 40%, then its abort by analysis.
        // Nothing followed these commits.
        var stable = new InstanceSet(Release.Of("1.0"), SetRole.Stable, 2, 2);
        var created = Core.Strategies.RolloutEngine.Create("shop-production-2", manifest.Services[0], "production", Release.Of("2.0"), RolloutKind.Deploy, [stable], time.GetUtcNow(), "alice");
        (await store.CreateAsync(created, [new RolloutEvent(RolloutEventType.Created, "deploy of shop 2.0 to production by alice")], default, who: new AuditContext("alice"))).Should().Be(CommitOutcome.Committed);
        var shifted = created with { Phase = RolloutPhase.Progressing, Traffic = created.Traffic with { CanaryWeight = 40 }, Revision = 1 };
        (await store.SaveAsync(shifted, 0, [new RolloutEvent(RolloutEventType.TrafficShifted, "canary 2.0 at 40%")], default)).Should().Be(CommitOutcome.Committed);
        time.Advance(TimeSpan.FromSeconds(30));
        var aborted = shifted with { Phase = RolloutPhase.Aborted, Traffic = TrafficState.AllStable, Revision = 2, UpdatedAt = time.GetUtcNow(), FinishedAt = time.GetUtcNow() };
        (await store.SaveAsync(aborted, 1, [new RolloutEvent(RolloutEventType.Aborted, "analysis errors failed: error-rate 31% exceeds 5%")], default)).Should().Be(CommitOutcome.Committed);

        var log = await store.CommittedEventsAsync(0, 10, default);
        log.Select(e => (e.Event.Type, e.Actor, e.Phase, e.Share, e.Peak)).Should().Equal(
            ("Created", "alice", RolloutPhase.Progressing, 0, 0),
            ("TrafficShifted", null, RolloutPhase.Progressing, 40, 40),
            ("Aborted", null, RolloutPhase.Aborted, 0, 40));

        // The server starts again: its first pass follows the log from where it stopped.
        await notifications.DisposeAsync();
        await store.DisposeAsync();
        (store, incidents, notifications) = Start(manifest);
        using var follower = new RolloutFollower(store, [new FailsOnce(), incidents, notifications], NullLogger<RolloutFollower>.Instance);
        await follower.FollowAsync(default);
        (await store.CursorAsync(RolloutFollower.Name, default)).Should().Be(0, "a handler failed on the first commit: nothing is skipped");
        (await store.IncidentsAsync(new IncidentQuery(), default)).Should().BeEmpty();

        await follower.FollowAsync(default);
        (await store.CursorAsync(RolloutFollower.Name, default)).Should().Be(log[^1].Event.Id);
        var incident = (await store.IncidentsAsync(new IncidentQuery(), default)).Should().ContainSingle().Subject;
        (incident.RolloutId, incident.Severity, incident.CauseVersion, incident.Impact).Should().Be(("shop-production-2", Core.Incidents.Severity.P2, "2.0", "40% of the traffic of shop in production was on 2.0"));
        (await store.TimelineAsync(incident.Id, default)).Select(e => e.Kind).Should().Equal("rollout", "verdict", "opened", "escalated");

        // A crash after the effects but before the cursor moved: the same commits are handed over again.
        await using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(folder, "gantry.db")}"))
        {
            await connection.OpenAsync();
            await using var rewind = connection.CreateCommand();
            rewind.CommandText = "UPDATE cursors SET position = 0";
            (await rewind.ExecuteNonQueryAsync()).Should().Be(1);
        }

        await follower.FollowAsync(default);
        (await store.IncidentsAsync(new IncidentQuery(), default)).Should().ContainSingle();
        (await store.TimelineAsync(incident.Id, default)).Should().HaveCount(4);
        var queued = await store.DeliveriesAsync(null, 20, default);
        queued.Select(d => $"{d.Event} {d.Receiver}").Order(StringComparer.Ordinal).Should().Equal(
            "incident.escalated chat", "incident.opened down", "incident.opened journal", "rollout.aborted down", "rollout.aborted journal");
        var notice = queued.First(d => d.Event == "rollout.aborted").Notification;
        (notice.Fields["impact"], notice.Fields["status"], notice.Fields["nextUpdate"]).Should().Be(("40% of the traffic on 2.0", "Aborted", "none: the rollout has ended"));
        notice.Text.Should().Be(":x: shop 2.0 in production: Aborted\n40% of the traffic on 2.0, Aborted; severity -", "the manifest's template, a field without a value as '-'");
        queued.First(d => d.Event == "incident.opened").Notification.Text.Should().StartWith($"[P2] {incident.Key} OPEN: shop 2.0 aborted in production\nSeverity: P2\n", "no template: the runbook's text");
        await notifications.DisposeAsync();
        await store.DisposeAsync();
    }

    [Fact(Timeout = 30_000)]
    public async Task Open_WithARootCauseRelease_LinksItsRolloutSoItCountsAsAFailedChange()
    {
        var (store, incidents, notifications) = Start(Manifest(FreePort.Next()));
        var service = Manifest(1).Services[0];
        var rollout = Core.Strategies.RolloutEngine.Create("shop-production-1", service, "production", Release.Of("2.0"), RolloutKind.Deploy, [], time.GetUtcNow(), "alice")
            with { Phase = RolloutPhase.Succeeded, FinishedAt = time.GetUtcNow() };
        (await store.CreateAsync(rollout, [], default)).Should().Be(CommitOutcome.Committed);

        var bad = await incidents.OpenAsync(new OpenIncidentRequest("slow", "P2", "shop", "production", "9.9"), new AuditContext("alice"), default);
        bad.Problem!.Detail.Should().Be("shop 9.9 was never deployed to production");
        var opened = await incidents.OpenAsync(new OpenIncidentRequest("slow pages", "P2", "shop", "production", "2.0"), new AuditContext("alice"), default);
        opened.Value!.Incident.RolloutId.Should().Be("shop-production-1");
        var (facts, _) = await store.DoraFactsAsync("shop", "production", time.GetUtcNow().AddDays(-1), time.GetUtcNow().AddDays(1), default);
        facts.Should().ContainSingle().Which.Incident.Should().BeTrue();

        // A release tried but never gone in (its canary aborted) is not a root cause, and the refusal says why.
        var aborted = Core.Strategies.RolloutEngine.Create("shop-production-2", service, "production", Release.Of("3.0"), RolloutKind.Deploy, [], time.GetUtcNow(), "alice")
            with { Phase = RolloutPhase.Aborted, FinishedAt = time.GetUtcNow() };
        (await store.CreateAsync(aborted, [], default)).Should().Be(CommitOutcome.Committed);
        var tried = await incidents.OpenAsync(new OpenIncidentRequest("slow", "P2", "shop", "production", "3.0"), new AuditContext("alice"), default);
        tried.Problem!.Detail.Should().Be("shop 3.0 never went into production: its rollout shop-production-2 is Aborted (a root cause is a release that went in: Succeeded, or RolledBack after it)");
        (await incidents.OpenAsync(new OpenIncidentRequest("x", "P7"), new AuditContext("alice"), default)).Problem!.Detail.Should().Be("severity 'P7' is not one of P0, P1, P2, P3");
        await notifications.DisposeAsync();
        await store.DisposeAsync();
    }

    /// <summary>A handler that fails on the first commit it is handed (a full disk, say), then succeeds.</summary>
    private sealed class FailsOnce : ICommitHandler
    {
        private int attempts;

        public Task HandleAsync(RolloutCommit commit, CancellationToken ct) => ++attempts == 1 ? throw new IOException("disk full") : Task.CompletedTask;
    }
}
