using Gantry.Core.Incidents;
using Gantry.Core.Manifest;
using Severity = Gantry.Core.Incidents.Severity;

namespace Gantry.Core.Tests.Incidents;

public sealed class AlertRoutingTests
{
    private static readonly GantryManifest Manifest = ManifestLoader.LoadText("""
        version: 1
        services:
          shop: { process: { command: app, args: ["{port}"] }, listen: 127.0.0.1:8080 }
        environments:
          staging: {}
          production: {}
        incidents:
          defaultSeverity: P2
          alerts:
            serviceLabel: app
            environmentLabel: env
            rules:
              - { match: { severity: critical, team: shop }, severity: P0, rollback: 30m }
              - { match: { severity: critical }, severity: P1 }
        """).Manifest!;

    private static ReceivedAlert Alert(params (string Key, string Value)[] labels) =>
        new("firing", labels.ToDictionary(l => l.Key, l => l.Value), new Dictionary<string, string>(), "f1", null);

    [Fact(Timeout = 10_000)]
    public void Route_FirstRuleWhoseLabelsAllMatch_GivesSeverityAndRollback()
    {
        AlertRouting.Route(Manifest, Alert(("app", "shop"), ("env", "production"), ("severity", "critical"), ("team", "shop"))).Decision
            .Should().Be(new AlertDecision("shop", "production", Severity.P0, TimeSpan.FromMinutes(30), 1));
        AlertRouting.Route(Manifest, Alert(("app", "shop"), ("env", "staging"), ("severity", "critical"), ("team", "db"))).Decision
            .Should().Be(new AlertDecision("shop", "staging", Severity.P1, null, 2), "the second rule: team does not match the first");
        AlertRouting.Route(Manifest, Alert(("app", "shop"), ("severity", "warning"))).Decision
            .Should().Be(new AlertDecision("shop", "staging", Severity.P2, null, null), "no rule: the default severity, in the default (first) environment");
    }

    [Theory(Timeout = 10_000)]
    [InlineData("service", "shop", "production", "ShopErrors: no 'app' label names a service")]
    [InlineData("app", "billing", "production", "ShopErrors: there is no service 'billing' in the manifest")]
    [InlineData("app", "shop", "prod", "ShopErrors: there is no environment 'prod' in the manifest")]
    public void Route_LabelsThatNameNothing_LeaveTheAlertAloneAndSayWhy(string serviceLabel, string service, string environment, string why)
    {
        var (decision, ignored) = AlertRouting.Route(Manifest, Alert(("alertname", "ShopErrors"), (serviceLabel, service), ("env", environment)));
        decision.Should().BeNull();
        ignored.Should().Be(why);
    }

    [Fact(Timeout = 10_000)]
    public void ReceivedAlert_Summary_IsTheSummaryElseTheDescriptionElseTheName()
    {
        new ReceivedAlert("firing", new Dictionary<string, string> { ["alertname"] = "A" }, new Dictionary<string, string> { ["description"] = "d", ["summary"] = "s" }, "f", null).Summary.Should().Be("s");
        new ReceivedAlert("firing", new Dictionary<string, string> { ["alertname"] = "A" }, new Dictionary<string, string> { ["description"] = "d" }, "f", null).Summary.Should().Be("d");
        new ReceivedAlert("resolved", new Dictionary<string, string> { ["alertname"] = "A" }, new Dictionary<string, string>(), "f", null).Should().Match<ReceivedAlert>(a => a.Summary == "A" && !a.Firing);
    }
}
