using FluentAssertions;
using Gantry.Testing;

namespace Gantry.Tests.Commands;

/// <summary>Incidents, DORA metrics, post-mortems and notifications through the CLI, against a real embedded server.</summary>
public sealed class IncidentCommandTests : IAsyncLifetime
{
    private EmbeddedServer embedded = null!;

    public async ValueTask InitializeAsync() => embedded = await EmbeddedServer.StartAsync($$"""
        version: 1
        {{SampleService.ShopServices()}}
        environments:
          production: {}
        incidents:
          escalation:
            - { name: on-call, notify: [journal] }
            - { name: team-lead, after: 15m, notify: [journal] }
        notifications:
          receivers:
            journal: { log: { path: notifications.jsonl } }
          subscriptions:
            - { events: [incident.opened, incident.resolved, rollout.succeeded], receivers: [journal] }
        """, "gantry-incidents-");

    public async ValueTask DisposeAsync() => await embedded.DisposeAsync();

    private Task<(int Exit, string Out, string Err)> RunAsync(params string[] args) => GantryCliTests.RunAsync([.. args, "--server", embedded.Address, "--data", embedded.Data]);

    [Fact(Timeout = 120_000)]
    public async Task Incident_OpenAckResolve_ShowsTheTimelineTheMetricsAndAPostmortem()
    {
        (await RunAsync("deploy", "shop", "-v", "1.0", "--wait")).Exit.Should().Be(ExitCodes.Success);

        var (exit, output, error) = await RunAsync("incident", "open", "--title", "checkout slow", "--severity", "P2", "--service", "shop", "--release", "1.0", "--impact", "p99 above 2 s for EU users");
        exit.Should().Be(ExitCodes.Success, error);
        output.Should().StartWith("INC-1 [P2] open: checkout slow\n  service: shop in production; root cause: 1.0 (rollout shop-production-1)\n  impact: p99 above 2 s for EU users\n  targets: respond by ");
        output.Should().Contain("escalates to team-lead at ").And.Contain("opened by local-admin: P2 checkout slow; impact: p99 above 2 s for EU users").And.Contain("paged on-call (journal)");

        (exit, _, error) = await RunAsync("incident", "open", "--title", "x", "--severity", "P9");
        (exit, error).Should().Be((ExitCodes.BadInput, "gantry: severity 'P9' is not one of P0, P1, P2, P3 [invalid-request]\n"));

        (exit, output, _) = await RunAsync("incident", "ack", "INC-1", "-m", "on it");
        exit.Should().Be(ExitCodes.Success);
        output.Should().StartWith("INC-1 [P2] acknowledged: checkout slow").And.Contain("responded in time").And.NotContain("escalates to");
        (exit, output, _) = await RunAsync("incident", "resolve", "1", "--note", "cache warmed");
        output.Should().Contain("INC-1 [P2] resolved").And.Contain("resolved by local-admin: cache warmed");
        (exit, _, error) = await RunAsync("incident", "ack", "INC-1");
        (exit, error).Should().Be((ExitCodes.BadInput, "gantry: INC-1 is already resolved: an incident only moves forward (open, acknowledged, mitigated, resolved) [incident-refused]\n"));

        (exit, output, _) = await RunAsync("incident", "list");
        output.Should().MatchRegex(@"^ID +SEV STATUS +OPENED \(UTC\) +SERVICE +TITLE\nINC-1 +P2 +resolved +\d{4}-\d\d-\d\d \d\d:\d\d  shop/production +checkout slow\n$");

        (exit, output, _) = await RunAsync("dora", "--env", "production", "--since", "7d");
        exit.Should().Be(ExitCodes.Success);
        output.Should().Contain("DORA metrics of every service in production")
            .And.Contain("deployment frequency  High    1 deployments in 7 days: 1 per week")
            .And.Contain("change failure rate   Low     1 of 1 rollouts rolled back or linked to an incident: 100%")
            .And.Contain("time to restore       Elite   median")
            .And.Contain("bands: 2023 Accelerate State of DevOps Report (DORA)");
        (exit, _, error) = await RunAsync("dora", "--since", "1000d");
        (exit, error).Should().Be((ExitCodes.BadInput, "gantry: 'since' must be more than 0 and at most 730d (two years) [invalid-request]\n"));

        var file = Path.Combine(embedded.Folder, "INC-1.md");
        (exit, output, _) = await RunAsync("postmortem", "INC-1", "-o", file);
        (exit, output).Should().Be((ExitCodes.Success, $"post-mortem written to {file}\n"));
        var markdown = await File.ReadAllTextAsync(file);
        markdown.Should().StartWith("# Post-mortem: INC-1 checkout slow\n")
            .And.Contain("| Root-cause release | shop 1.0 (rollout shop-production-1) |")
            .And.Contain("## Timeline (UTC)")
            .And.Contain("| local-admin | acknowledged by local-admin: on it |")
            .And.Contain("## The rollout and its verdict")
            .And.Contain("## Delivery metrics of shop in production, 30 days before the incident")
            .And.Contain("## Action items");

        await RolloutCommandsTests.EventuallyAsync(async () => (await RunAsync("notifications")).Out.Split('\n').Count(l => l.Contains("delivered", StringComparison.Ordinal)) >= 4);
        (exit, output, _) = await RunAsync("notifications");
        output.Should().Contain("journal      rollout.succeeded").And.Contain("journal      incident.opened").And.Contain("journal      incident.escalated").And.Contain("journal      incident.resolved");
        (await RunAsync("notifications", "--dead")).Out.Trim().Split('\n').Should().ContainSingle("only the header: nothing was dead-lettered");
        File.ReadAllLines(Path.Combine(embedded.Folder, "notifications.jsonl")).Should().HaveCountGreaterThanOrEqualTo(4);
    }
}
