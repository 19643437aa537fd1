using System.Collections.Immutable;
using Gantry.Core.Manifest.Schema;
using Gantry.Core.Manifest.Values;

namespace Gantry.Core.Manifest;

/// <summary>Reading incidents, escalation and notification receivers.</summary>
internal sealed partial class ManifestReader
{
    // ---------------------------------------------------------------- incidents and notifications

    private IncidentPolicy ReadIncidents(MapReader m)
    {
        var targets = ImmutableArray.CreateBuilder<KeyValuePair<Incidents.Severity, Incidents.SeverityTargets>>();
        foreach (var (key, value, path) in m.Entries("severities", "severity"))
        {
            // The key is one of P0-P3 (checked against the shape).
            var severity = System.Enum.Parse<Incidents.Severity>(key.Value);
            var what = $"targets of {key.Value}";
            if (MapReader.Open(ctx, value, ManifestShapes.SeverityTargets, what, path, what) is { } t)
            {
                var defaults = Incidents.SeverityTargets.Default(severity);
                var respond = Positive(t, "respond") ?? defaults.Respond;
                var resolve = Positive(t, "resolve") ?? defaults.Resolve;
                if (resolve < respond)
                {
                    ctx.Error(t.PositionOf("resolve"), $"{key.Value} must be resolved no sooner than it is responded to ({DurationSyntax.Format(resolve)} < {DurationSyntax.Format(respond)})");
                }

                targets.Add(new(severity, new Incidents.SeverityTargets(respond, resolve)));
            }
        }

        var rules = m.List("rules", (node, i, path) =>
        {
            var what = $"severity rule {i + 1}";
            if (MapReader.Open(ctx, node, ManifestShapes.SeverityRule, what, path, what) is not { } r)
            {
                return null;
            }

            var environment = r.String("environment");
            if (environment is not null)
            {
                environmentRefs.Add((environment, ctx.Positions.Find(r.Child("environment")) ?? r.PositionOf("environment")));
            }

            return r.Enum<Incidents.Severity>("severity") is { } severity
                ? new SeverityRule(environment, r.Enum<IncidentCause>("cause"), r.Percent("trafficAbove"), severity)
                : null;
        });
        var levels = m.List("escalation", (node, i, path) =>
        {
            var what = $"escalation level {i + 1}";
            if (MapReader.Open(ctx, node, ManifestShapes.EscalationLevel, what, path, what) is not { } l)
            {
                return null;
            }

            var notify = l.ScalarList<string>("notify");
            foreach (var (receiver, at) in notify.Select((r, j) => (r, ctx.Positions.Find(l.Child("notify") + $"[{j}]") ?? l.PositionOf("notify"))))
            {
                receiverRefs.Add((receiver, at));
            }

            return l.String("name") is { } name ? new EscalationLevel(name, l.Duration("after") ?? TimeSpan.Zero, notify) : null;
        });
        return new IncidentPolicy(targets.ToImmutable(), rules, m.Enum<Incidents.Severity>("defaultSeverity") ?? Incidents.Severity.P2, levels)
        {
            Alerts = m.Object("alerts", "alerts") is { } a ? ReadAlerts(a) : AlertIntake.Default,
        };
    }

    private AlertIntake ReadAlerts(MapReader a)
    {
        var rules = a.List("rules", (node, i, path) =>
        {
            var what = $"alert rule {i + 1}";
            if (MapReader.Open(ctx, node, ManifestShapes.AlertRule, what, path, what) is not { } r)
            {
                return null;
            }

            var match = ReadStringMap(r, "match", "label", null);
            if (match.IsEmpty && r.Has("match"))
            {
                ctx.Error(r.PositionOf("match"), $"{what} must match at least one label");
                return null;
            }

            return new AlertRule(match, r.Enum<Incidents.Severity>("severity"), Positive(r, "rollback"));
        });
        return new AlertIntake(a.String("serviceLabel") ?? "service", a.String("environmentLabel") ?? "environment", rules);
    }

    private static readonly string[] ReceiverKinds = ["webhook", "slack", "log"];

    private readonly List<string> receiverNames = [];

    private NotificationSpec ReadNotifications(MapReader m)
    {
        receiverNames.AddRange(m.Entries("receivers", "receiver").Select(e => e.Key.Value));
        var receivers = ReadNamed<ReceiverSpec>(m, "receivers", "receiver", ManifestShapes.Receiver, (name, r, _) =>
        {
            var kinds = ReceiverKinds.Where(r.Has).ToList();
            if (kinds.Count != 1)
            {
                ctx.Error(kinds.Count == 0 ? r.Node.Start : r.KeyPositionOf(kinds[1]), $"receiver '{name}' needs exactly one of {string.Join(", ", ReceiverKinds)}" + (kinds.Count == 0 ? string.Empty : $", not {string.Join(" and ", kinds)}"));
                return null;
            }

            return kinds[0] switch
            {
                "webhook" when r.Object("webhook", $"webhook of receiver '{name}'") is { } w && w.Url("url") is { } url => new WebhookReceiverSpec(name, url, ReadStringMap(w, "headers", "header", null)),
                "slack" when r.Object("slack", $"slack of receiver '{name}'") is { } s && s.Url("url") is { } url => new SlackReceiverSpec(name, url),
                "log" when r.Object("log", $"log of receiver '{name}'") is { } l && l.String("path") is { } path => new LogReceiverSpec(name, path),
                _ => null,
            };
        });
        var subscriptions = m.List("subscriptions", (node, i, path) =>
        {
            var what = $"subscription {i + 1}";
            if (MapReader.Open(ctx, node, ManifestShapes.Subscription, what, path, what) is not { } s)
            {
                return null;
            }

            var names = s.ScalarList<string>("receivers");
            foreach (var (receiver, j) in names.Select((r, j) => (r, j)))
            {
                receiverRefs.Add((receiver, ctx.Positions.Find(s.Child("receivers") + $"[{j}]") ?? s.PositionOf("receivers")));
            }

            var environments = s.ScalarList<string>("environments");
            foreach (var (environment, j) in environments.Select((e, j) => (e, j)))
            {
                environmentRefs.Add((environment, ctx.Positions.Find(s.Child("environments") + $"[{j}]") ?? s.PositionOf("environments")));
            }

            return new SubscriptionSpec(s.ScalarList<string>("events"), names, environments);
        });
        var retry = m.Object("retry", "retry of notifications");
        return new NotificationSpec(receivers, subscriptions, retry?.Int("attempts") ?? 5,
            (retry is null ? null : Positive(retry, "backoff")) ?? TimeSpan.FromSeconds(1),
            (retry is null ? null : Positive(retry, "timeout")) ?? TimeSpan.FromSeconds(5),
            ReadStringMap(m, "templates", "template", Placeholders.Notification));
    }

    /// <summary>Receivers named by subscriptions and escalation levels must be defined under notifications.receivers.</summary>
    private void CheckReceivers() =>
        CheckReferences(receiverRefs, receiverNames, "receiver", "notifications.receivers");

    private static readonly string[] CheckKinds = ["tls", "http", "tcp", "command", "disk", "signoff"];

    private ChecklistItem? ReadChecklistItem(MapReader m, string name, string what)
    {
        var kinds = CheckKinds.Where(m.Has).ToList();
        if (kinds.Count != 1)
        {
            ctx.Error(kinds.Count == 0 ? m.Node.Start : m.KeyPositionOf(kinds[1]), $"{what} needs exactly one of {string.Join(", ", CheckKinds)}" + (kinds.Count == 0 ? string.Empty : $", not {string.Join(" and ", kinds)}"));
            return null;
        }

        var kind = kinds[0];
        ChecklistCheck? check = m.Object(kind, $"{kind} of {what}") is not { } c ? null : kind switch
        {
            "tls" => c.Endpoint("address") is { } a ? new TlsCheck(a, c.String("host"), c.Int("minDays") ?? 30, c.String("ca")) : null,
            "http" => c.Url("url") is { } u ? new HttpCheck(u) : null,
            "tcp" => c.Endpoint("address") is { } t ? new TcpCheck(t) : null,
            "command" => c.ScalarList<string>("args") is { IsEmpty: false } args ? new CommandCheck(args, c.Bool("shell") ?? false) : null,
            "disk" => c.String("path") is { } p && c.Percent("minFree") is { } f ? new DiskCheck(p, f) : null,
            _ => c.String("role") is { } r ? new SignOffCheck(r) : null,
        };
        var timeout = Positive(m, "timeout") ?? TimeSpan.FromSeconds(5);
        return check is null ? null : new ChecklistItem(name, check, m.Bool("required") ?? true, timeout);
    }
}
