using System.Globalization;
using Gantry.Core.Incidents;
using Gantry.Core.Notifications;
using Gantry.Server.Incidents;
using Gantry.Server.Rollouts;
using Gantry.Server.Reconciler;
using Microsoft.Extensions.Logging;

namespace Gantry.Server.Notifications;

/// <summary>
/// Turns rollout and incident events into notifications for the receivers subscribed to them (and the
/// receivers of an escalation level), writes them to the outbox, and delivers them in the background:
/// each failed attempt is retried after a doubling back-off, and after the last one the delivery is dead-lettered.
/// Nothing here ever waits for a receiver on a rollout's path.
/// </summary>
public sealed partial class NotificationService(GantryManifest manifest, IDeliveryStore store, IReadOnlyDictionary<string, INotifier> notifiers, TimeProvider time, ILogger<NotificationService> logger)
    : IAsyncDisposable, Microsoft.Extensions.Hosting.IHostedService, ICommitHandler, IIncidentNotifier
{
    private readonly CancellationTokenSource stopping = new();
    private readonly Signal wake = new();
    private Task? loop;

    private NotificationSpec? Spec => manifest.Notifications;

    public void Start() => loop = Task.Run(() => RunAsync(stopping.Token));

    Task Microsoft.Extensions.Hosting.IHostedService.StartAsync(CancellationToken cancellationToken)
    {
        Start();
        return Task.CompletedTask;
    }

    async Task Microsoft.Extensions.Hosting.IHostedService.StopAsync(CancellationToken cancellationToken) => await DisposeAsync();

    Task ICommitHandler.HandleAsync(RolloutCommit commit, CancellationToken ct) => RolloutAsync(commit, ct);

    /// <summary>The rollout events people subscribe to, by the engine's event type.</summary>
    public static string? RolloutEvent(string type, RolloutPhase phase) => RolloutEventTypes.Parse(type) switch
    {
        RolloutEventType.Created => phase == RolloutPhase.AwaitingApproval ? "rollout.awaitingApproval" : "rollout.started",
        RolloutEventType.AwaitingApproval => "rollout.awaitingApproval",
        RolloutEventType.Paused => "rollout.paused",
        RolloutEventType.Aborted => "rollout.aborted",
        RolloutEventType.RolledBack => "rollout.rolledBack",
        RolloutEventType.Succeeded => "rollout.succeeded",
        RolloutEventType.Failed => "rollout.failed",
        _ => null,
    };

    /// <summary>
    /// Notifications of a commit's events, each queued once however often the commit is handed over; the
    /// impact is the new release's largest share of the traffic up to the commit (an abort moves it to 0).
    /// </summary>
    public async Task RolloutAsync(RolloutCommit commit, CancellationToken ct)
    {
        var state = commit.Rollout;
        foreach (var e in commit.Events.Select(c => c.Event))
        {
            if (RolloutEvent(e.Type, commit.Phase) is not { } kind)
            {
                continue;
            }

            var fields = new Dictionary<string, string?>(StringComparer.Ordinal)
            {
                ["severity"] = null,
                ["startTime"] = Time(state.CreatedAt),
                ["services"] = $"{state.Service} ({state.Environment})",
                ["impact"] = string.Create(CultureInfo.InvariantCulture, $"{commit.Peak}% of the traffic on {state.Release.Version}"),
                ["status"] = commit.Phase.ToString(),
                ["actionsTaken"] = e.Message,
                ["nextUpdate"] = commit.Phase.IsTerminal() ? "none: the rollout has ended" : "when the rollout moves on",
                ["rollout"] = state.Id,
                ["version"] = state.Release.Version,
            };
            var title = $"{state.Service} {state.Release.Version} in {state.Environment}: {e.Type}";
            if (Prepare(kind, state.Environment, new Notification(kind, e.Time, title, Text(kind, title, fields, v => v), fields, Text(kind, title, fields, Notification.SlackEscape)), [], string.Create(CultureInfo.InvariantCulture, $"event {e.Id}")) is { } outbox)
            {
                await store.EnqueueAsync(outbox, ct);
                Queued();
            }
        }
    }

    /// <summary>Wakes the delivery loop: something was queued.</summary>
    public void Queued() => wake.Pulse();

    /// <summary>
    /// The notification of an incident change (incident.opened, incident.escalated, ...) for its subscribers and
    /// the receivers of an escalation level, to be written with the change; null when nobody is to be told.
    /// </summary>
    public Outbox? ForIncident(string kind, Incident incident, IReadOnlyList<string> levelReceivers)
    {
        var policy = manifest.IncidentPolicy;
        var next = incident.Status == IncidentStatus.Resolved ? "none: resolved"
            : IncidentRules.NextEscalationAt(policy, incident) is { } at ? $"{Time(at)} (escalation to {policy.Escalation[incident.EscalationLevel].Name} unless acknowledged)"
            : $"{Time(incident.OpenedAt + policy.TargetsOf(incident.Severity).Resolve)} (resolution target)";
        var fields = new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            ["severity"] = incident.Severity.ToString(),
            ["startTime"] = Time(incident.OpenedAt),
            ["services"] = incident.Service is null ? "not given" : $"{incident.Service} ({incident.Environment})",
            ["impact"] = incident.Impact ?? "not assessed yet",
            ["status"] = incident.Status.ToString().ToLowerInvariant(),
            ["actionsTaken"] = Actions(kind, incident),
            ["nextUpdate"] = next,
            ["incident"] = incident.Key,
            ["rollout"] = incident.RolloutId,
            ["rootCause"] = incident.CauseVersion is null ? null : $"{incident.Service} {incident.CauseVersion}",
            ["escalationLevel"] = incident.EscalationLevel == 0 ? null : policy.Escalation[incident.EscalationLevel - 1].Name,
            ["resolvedAt"] = incident.ResolvedAt is { } r ? Time(r) : null,
        };
        var title = $"[{incident.Severity}] {incident.Key} {fields["status"]!.ToUpperInvariant()}: {incident.Title}";
        return Prepare(kind, incident.Environment, new Notification(kind, time.GetUtcNow(), title, Text(kind, title, fields, v => v), fields, Text(kind, title, fields, Notification.SlackEscape)), levelReceivers,
            string.Create(CultureInfo.InvariantCulture, $"{kind} {incident.Key} r{incident.Revision}"));
    }

    private static string Actions(string kind, Incident incident) => kind switch
    {
        "incident.opened" when incident.RolloutId is not null => $"rollout {incident.RolloutId} stopped; traffic back on the stable release",
        "incident.opened" => "incident opened",
        "incident.escalated" => "escalated: not acknowledged in time",
        "incident.acknowledged" => $"acknowledged by {incident.AcknowledgedBy}",
        "incident.mitigated" => $"mitigated by {incident.MitigatedBy}",
        "incident.resolved" => $"resolved by {incident.ResolvedBy}",
        _ => kind,
    };

    /// <summary>
    /// The manifest's template for the event with its placeholders filled in, or else the runbook's message; every
    /// value (not the template's own text) passed through <paramref name="escape"/> for the receiver it is meant for.
    /// </summary>
    private string Text(string kind, string title, Dictionary<string, string?> fields, Func<string, string> escape)
    {
        title = escape(title);
        fields = fields.ToDictionary(f => f.Key, f => f.Value is null ? null : escape(f.Value), StringComparer.Ordinal);
        var standard = StandardText(title, fields);
        if (Spec?.TemplateFor(kind) is not { } template)
        {
            return standard;
        }

        var values = fields.ToDictionary(f => f.Key, f => f.Value ?? "-", StringComparer.Ordinal);
        values["title"] = title;
        values["event"] = kind;
        values["text"] = standard;
        foreach (var name in Placeholders.Notification.Where(n => !values.ContainsKey(n)))
        {
            values[name] = "-";
        }

        return Placeholders.Expand(template, values).TrimEnd('\n');
    }

    /// <summary>The runbook's message: title, then one line per field that has a value.</summary>
    private static string StandardText(string title, Dictionary<string, string?> fields)
    {
        var labels = new (string Key, string Label)[]
        {
            ("severity", "Severity"), ("startTime", "Start time"), ("services", "Services affected"), ("impact", "Impact"), ("status", "Status"),
            ("actionsTaken", "Actions taken"), ("nextUpdate", "Next update"), ("rootCause", "Root cause release"),
        };
        return string.Join("\n", labels.Where(l => fields.GetValueOrDefault(l.Key) is not null).Select(l => $"{l.Label}: {fields[l.Key]}").Prepend(title));
    }

    private Outbox? Prepare(string kind, string? environment, Notification notification, IReadOnlyList<string> extra, string key)
    {
        if (Spec is not { } spec)
        {
            return null;
        }

        var receivers = spec.Subscriptions
            .Where(s => s.Events.Contains(kind) && (s.Environments.IsEmpty || (environment is not null && s.Environments.Contains(environment))))
            .SelectMany(s => s.Receivers)
            .Concat(extra)
            .Distinct(StringComparer.Ordinal)
            .Where(r => spec.FindReceiver(r) is not null)
            .ToList();
        return receivers.Count == 0 ? null : new Outbox(notification, receivers, key, time.GetUtcNow());
    }

    private async Task RunAsync(CancellationToken ct)
    {
        if (Spec is null)
        {
            // No receivers in the manifest: nothing is ever delivered, so nothing is looked for.
            return;
        }

        while (!ct.IsCancellationRequested)
        {
            try
            {
                await DeliverDueAsync(ct);
                await wake.WaitAsync(TimeSpan.FromMilliseconds(200), time, ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogLoopFailed(logger, ex);
                await Task.Delay(TimeSpan.FromSeconds(1), time, ct).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }
    }

    /// <summary>One round: every due delivery attempted, concurrently, each within the retry timeout.</summary>
    public async Task DeliverDueAsync(CancellationToken ct)
    {
        if (Spec is not { } spec)
        {
            return;
        }

        var due = await store.DueDeliveriesAsync(time.GetUtcNow(), 100, ct);
        await Task.WhenAll(due.Select(async d =>
        {
            var attempts = d.Attempts + 1;
            try
            {
                var receiver = spec.FindReceiver(d.Receiver) ?? throw new InvalidOperationException($"receiver '{d.Receiver}' is no longer in the manifest");
                var notifier = notifiers[Kind(receiver)];
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
                timeout.CancelAfter(spec.Timeout);
                await notifier.SendAsync(receiver, d.Notification, timeout.Token);
                await store.DeliveredAsync(d.Id, attempts, time.GetUtcNow(), ct);
            }
            catch (Exception ex) when (!ct.IsCancellationRequested)
            {
                var now = time.GetUtcNow();
                var dead = attempts >= spec.Attempts;
                var next = now + TimeSpan.FromTicks(spec.Backoff.Ticks * (1L << Math.Min(attempts - 1, 20)));
                var reason = ex is OperationCanceledException ? $"no answer within {Core.Manifest.Values.DurationSyntax.Format(spec.Timeout)}" : ex.GetBaseException().Message;
                await store.FailedAsync(d.Id, attempts, next, reason, dead, now, ct);
            }
        }));
    }

    private static string Kind(ReceiverSpec receiver) => receiver switch
    {
        WebhookReceiverSpec => "webhook",
        SlackReceiverSpec => "slack",
        _ => "log",
    };

    private static string Time(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    [LoggerMessage(Level = LogLevel.Error, Message = "the notification loop failed; trying again")]
    private static partial void LogLoopFailed(ILogger logger, Exception ex);

    public async ValueTask DisposeAsync()
    {
        if (stopping.IsCancellationRequested)
        {
            return;
        }

        await stopping.CancelAsync();
        if (loop is not null)
        {
            await loop;
        }
    }
}
