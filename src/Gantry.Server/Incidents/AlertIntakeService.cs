using System.Security.Cryptography;
using System.Text;
using Gantry.Core.Audit;
using Gantry.Core.Incidents;
using Gantry.Core.Strategies;
using Gantry.Server.Rollouts;

namespace Gantry.Server.Incidents;

/// <summary>
/// Alerts from Alertmanager's webhook: each firing alert opens an incident for its service and environment, or is
/// added to the one already open (once per alert, however often Alertmanager repeats it); a resolved alert is noted.
/// When the first matching rule says so, the service's newest release is rolled back (a rollout still in progress
/// is aborted), as the alert's identity, with the alert as the reason. One webhook at a time, so that two at once
/// open one incident.
/// </summary>
public sealed class AlertIntakeService(GantryManifest manifest, IncidentService incidents, IIncidentStore store, IRolloutStore rollouts, CommandService commands, TimeProvider time) : IDisposable
{
    private static readonly IReadOnlyDictionary<string, string> None = new Dictionary<string, string>();
    private readonly SemaphoreSlim gate = new(1, 1);

    /// <summary>Deals with every alert of <paramref name="hook"/>; <paramref name="mayAct"/> says whether the caller may act in an environment.</summary>
    public async Task<AlertIntakeAnswer> ReceiveAsync(AlertmanagerWebhook hook, AuditContext who, Func<string, bool> mayAct, CancellationToken ct)
    {
        await gate.WaitAsync(ct);
        try
        {
            var outcomes = new List<AlertOutcome>();
            foreach (var sent in hook.Alerts ?? [])
            {
                var alert = Received(hook, sent);
                var (decision, ignored) = AlertRouting.Route(manifest, alert);
                outcomes.Add(decision is null ? new AlertOutcome(alert.Name, alert.Status, null, null, null, "ignored: " + ignored)
                    : !mayAct(decision.Environment) ? new AlertOutcome(alert.Name, alert.Status, decision.Service, decision.Environment, null, $"refused: {who.Actor} may not act in {decision.Environment}")
                    : await ActAsync(alert, decision, who, ct));
            }

            return new AlertIntakeAnswer(outcomes);
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>An alert Gantry raised itself (a standing objective burning its budget), dealt with like one from Alertmanager.</summary>
    public async Task<AlertOutcome> RaiseAsync(ReceivedAlert alert, AlertDecision decision, AuditContext who, CancellationToken ct)
    {
        await gate.WaitAsync(ct);
        try
        {
            return await ActAsync(alert, decision, who, ct);
        }
        finally
        {
            gate.Release();
        }
    }

    private async Task<AlertOutcome> ActAsync(ReceivedAlert alert, AlertDecision d, AuditContext who, CancellationToken ct)
    {
        var found = await store.IncidentsAsync(new IncidentQuery(d.Service, d.Environment, OpenOnly: true, Limit: 1), ct);
        var open = found.Count > 0 ? found[0] : null;
        var mark = $"[{alert.Fingerprint}]";
        if (!alert.Firing)
        {
            return open is null
                ? Outcome(alert, d, null, "resolved; no incident is open")
                : Outcome(alert, d, open.Id, await NoteOnceAsync(open, $"alert {alert.Name} resolved {mark}", who, ct) ? $"noted as resolved on {open.Key}" : $"already noted on {open.Key}");
        }

        string action;
        Incident incident;
        if (open is null)
        {
            var opened = await incidents.OpenAsync(new OpenIncidentRequest($"{alert.Name}: {alert.Summary}", d.Severity.ToString(), d.Service, d.Environment, null, alert.Summary), who, ct);
            if (opened.Problem is { } problem)
            {
                return Outcome(alert, d, null, "refused: " + problem.Detail);
            }

            incident = opened.Value!.Incident;
            await NoteOnceAsync(incident, $"alert {alert.Name} firing: {alert.Summary} {mark}", who, ct);
            action = $"opened {incident.Key} ({d.Severity})";
        }
        else if (await NoteOnceAsync(open, $"alert {alert.Name} firing: {alert.Summary} {mark}", who, ct))
        {
            incident = open;
            action = $"added to {open.Key}";
        }
        else
        {
            return Outcome(alert, d, open.Id, $"already noted on {open.Key}");
        }

        if (d.RollbackWithin is not { } within)
        {
            return Outcome(alert, d, incident.Id, action);
        }

        var (done, rollout) = await RollBackAsync(alert, d, incident.Id, within, who, ct);
        if (await store.IncidentAsync(incident.Id, ct) is { } latest)
        {
            await store.SaveIncidentAsync(latest with { Revision = latest.Revision + 1 }, latest.Revision, [new TimelineEntry(time.GetUtcNow(), "alert", who.Actor, done, rollout)], who, "incident.alert", ct);
        }

        return Outcome(alert, d, incident.Id, $"{action}; {done}", rollout);
    }

    /// <summary>The newest release of the alert's target rolled back (or its rollout aborted), if it is recent enough.</summary>
    private async Task<(string Done, string? Rollout)> RollBackAsync(ReceivedAlert alert, AlertDecision d, long incidentId, TimeSpan within, AuditContext who, CancellationToken ct)
    {
        var reason = $"alert {alert.Name}: {alert.Summary}";
        var history = await rollouts.ListAsync(new RolloutQuery(d.Service, d.Environment, Limit: 1), ct);
        var latest = history.Count > 0 ? history[0] : null;
        if (latest is null)
        {
            return ($"nothing to roll back: {d.Service} was never deployed to {d.Environment}", null);
        }

        if (latest.Kind == RolloutKind.Rollback)
        {
            return ($"already rolling back or rolled back ({latest.Id})", latest.Id);
        }

        if (!latest.Phase.IsTerminal())
        {
            await BlameAsync(incidentId, latest, who, ct);
            var aborted = await commands.CommandAsync(latest.Id, CommandKind.Abort, new CommandRequest(reason), who, ct);
            return aborted.Problem is { } p ? ($"could not abort {latest.Id}: {p.Detail}", latest.Id) : ($"aborted {latest.Id} ({d.Service} {latest.Release.Version})", latest.Id);
        }

        var age = time.GetUtcNow() - (latest.FinishedAt ?? latest.UpdatedAt);
        if (latest.Phase != RolloutPhase.Succeeded || age > within)
        {
            return ($"not rolled back: {d.Service} {latest.Release.Version} reached {d.Environment} {Core.Manifest.Values.DurationSyntax.Format(age)} ago, longer than the rule's {Core.Manifest.Values.DurationSyntax.Format(within)}", null);
        }

        await BlameAsync(incidentId, latest, who, ct);
        var rollback = await commands.RollbackAsync(d.Service, new RollbackRequest(d.Environment, null, reason), who, ct);
        return rollback.Problem is { } problem
            ? ($"could not roll back: {problem.Detail}", null)
            : ($"rolling back {d.Service} {latest.Release.Version} to {rollback.Value!.Release.Version} ({rollback.Value.Id})", rollback.Value.Id);
    }

    /// <summary>
    /// The release about to be rolled back (or aborted) becomes the incident's cause, before the rollback commits: its
    /// change failure counts, and the rollback finds this incident rather than opening one of its own.
    /// </summary>
    private async Task BlameAsync(long incidentId, RolloutState cause, AuditContext who, CancellationToken ct)
    {
        if (await store.IncidentAsync(incidentId, ct) is { RolloutId: null } incident)
        {
            var entry = new TimelineEntry(time.GetUtcNow(), "cause", who.Actor, $"root cause: {cause.Service} {cause.Release.Version} (rollout {cause.Id})", cause.Id);
            await store.SaveIncidentAsync(incident with { RolloutId = cause.Id, CauseVersion = cause.Release.Version, Revision = incident.Revision + 1 }, incident.Revision, [entry], who, "incident.alert", ct);
        }
    }

    /// <summary>Adds <paramref name="text"/> to the incident's timeline unless it is there already; true when added.</summary>
    private async Task<bool> NoteOnceAsync(Incident incident, string text, AuditContext who, CancellationToken ct)
    {
        if ((await store.TimelineAsync(incident.Id, ct)).Any(e => e.Kind == "alert" && e.Text == text) || await store.IncidentAsync(incident.Id, ct) is not { } latest)
        {
            return false;
        }

        return await store.SaveIncidentAsync(latest with { Revision = latest.Revision + 1 }, latest.Revision, [new TimelineEntry(time.GetUtcNow(), "alert", who.Actor, text)], who, "incident.alert", ct);
    }

    public void Dispose() => gate.Dispose();

    private static AlertOutcome Outcome(ReceivedAlert alert, AlertDecision d, long? incident, string action, string? rollout = null) =>
        new(alert.Name, alert.Status, d.Service, d.Environment, incident, action, rollout);

    /// <summary>An alert with the group's common labels and annotations under its own, and a fingerprint (Alertmanager's, else one of its labels).</summary>
    private static ReceivedAlert Received(AlertmanagerWebhook hook, AlertmanagerAlert sent)
    {
        var labels = new Dictionary<string, string>(hook.CommonLabels ?? None, StringComparer.Ordinal);
        foreach (var (k, v) in sent.Labels ?? None)
        {
            labels[k] = v;
        }

        var annotations = new Dictionary<string, string>(hook.CommonAnnotations ?? None, StringComparer.Ordinal);
        foreach (var (k, v) in sent.Annotations ?? None)
        {
            annotations[k] = v;
        }

        var fingerprint = sent.Fingerprint ?? Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\n', labels.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => $"{l.Key}={l.Value}")))))[..16];
        return new ReceivedAlert(sent.Status ?? hook.Status ?? "firing", labels, annotations, fingerprint, sent.StartsAt);
    }
}
