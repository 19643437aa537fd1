using System.Globalization;
using Gantry.Core.Audit;
using Gantry.Core.Incidents;
using Gantry.Core.Notifications;
using Severity = Gantry.Core.Incidents.Severity;
using Gantry.Server.Rollouts;

namespace Gantry.Server.Incidents;

/// <summary>
/// Incidents: opened by hand or by Gantry when a rollout is aborted by its analysis or health checks, rolled
/// back, or fails its progress deadline in a critical environment; graded by the manifest's rules; moved
/// through their life; escalated while nobody acknowledges them.
/// </summary>
public sealed class IncidentService(GantryManifest manifest, IIncidentStore store, IRolloutStore rollouts, TimeProvider time, IIncidentNotifier? notifier = null) : ICommitHandler
{
    private IncidentPolicy Policy => manifest.IncidentPolicy;

    Task ICommitHandler.HandleAsync(RolloutCommit commit, CancellationToken ct) => ObserveAsync(commit, ct);

    public async Task<Result<IncidentView>> OpenAsync(OpenIncidentRequest request, AuditContext who, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(request.Title))
        {
            return Bad("an incident needs a title (--title)");
        }

        if ((Rollouts.Requests.TooLong(request.Title, "title") ?? Rollouts.Requests.TooLong(request.Impact, "impact")) is { } tooLong)
        {
            return tooLong;
        }

        if (!Enum.TryParse<Severity>(request.Severity, ignoreCase: false, out var severity) || !Enum.IsDefined(severity))
        {
            return Bad($"severity '{request.Severity}' is not one of P0, P1, P2, P3");
        }

        if (request.Service is { } s && manifest.FindService(s) is null)
        {
            return ProblemCodes.UnknownService.With($"there is no service '{s}' in the manifest");
        }

        var environment = EnvironmentOf(request);
        string? rolloutId = null;
        if (request.Release is { } version)
        {
            if (request.Service is null)
            {
                return Bad("a root-cause release needs its service (--service)");
            }

            // The rollout that brought the release into the environment is the change that failed.
            var history = await rollouts.ListAsync(new RolloutQuery(request.Service, environment, Limit: 1000), ct);
            var cause = history.FirstOrDefault(r => r.Kind == RolloutKind.Deploy && r.Release.Version == version && r.Phase is RolloutPhase.Succeeded or RolloutPhase.RolledBack);
            if (cause is null)
            {
                // A release that was tried but never went in (its canary aborted, its rollout failed) served no traffic
                // of its own for long: it is not a change that failed in production, so it is not a root cause.
                var tried = history.FirstOrDefault(r => r.Kind == RolloutKind.Deploy && r.Release.Version == version);
                return ProblemCodes.UnknownRelease.With(tried is null
                    ? $"{request.Service} {version} was never deployed to {environment}"
                    : $"{request.Service} {version} never went into {environment}: its rollout {tried.Id} is {tried.Phase} (a root cause is a release that went in: Succeeded, or RolledBack after it)");
            }

            rolloutId = cause.Id;
        }

        var now = time.GetUtcNow();
        var incident = new Incident(0, request.Title.Trim(), severity, IncidentStatus.Open, request.Service, environment, rolloutId, request.Release, request.Impact, now, who.Actor);
        var timeline = new List<TimelineEntry> { new(now, "opened", who.Actor, $"opened by {who.Actor}: {severity} {incident.Title}" + (request.Impact is { } i ? $"; impact: {i}" : string.Empty), rolloutId) };
        if (rolloutId is not null)
        {
            timeline.Add(new TimelineEntry(now, "cause", who.Actor, $"root cause: {request.Service} {request.Release} (rollout {rolloutId})", rolloutId));
        }

        var (paged, notify) = Opening(incident, timeline, now);
        var opened = await store.OpenIncidentAsync(paged, timeline, who, ct, notify);
        notifier?.Queued();
        await EscalateAsync(opened, ct);
        return await ViewAsync(await store.IncidentAsync(opened.Id, ct) ?? opened, ct);
    }

    /// <summary>
    /// Looks at what a rollout commit did: an abort decided by Gantry (analysis, health), a rollback, or a
    /// failure of the progress deadline in a critical environment opens an incident for the rollout (once). The
    /// commit may be handed over again after a crash: an incident already open for the rollout is not opened
    /// again, and its notification is queued once.
    /// </summary>
    public async Task ObserveAsync(RolloutCommit commit, CancellationToken ct)
    {
        var rollout = commit.Rollout;
        IncidentCause? cause = null;
        StoredEvent? what = null;
        foreach (var e in commit.Events.Select(c => c.Event))
        {
            if (e.Is(RolloutEventType.Aborted) && commit.BySystem)
            {
                (cause, what) = (IncidentCause.Aborted, e);
            }
            else if (e.Is(RolloutEventType.RolledBack))
            {
                (cause, what) = (IncidentCause.RolledBack, e);
            }
            else if (e.Is(RolloutEventType.WatchFailed))
            {
                (cause, what) = (IncidentCause.WatchFailed, e);
            }
            else if (e.Is(RolloutEventType.Failed) && manifest.FindEnvironment(rollout.Environment) is { Critical: true })
            {
                (cause, what) = (IncidentCause.Failed, e);
            }
        }

        if (cause is not { } c)
        {
            return;
        }

        // Handed over again after a crash: the incident, its notification and its first page were stored together.
        if (await store.IncidentOfRolloutAsync(rollout.Id, ct) is null)
        {
            // The release's largest share of the traffic up to the commit: an abort has just moved it to 0.
            var traffic = c is IncidentCause.RolledBack or IncidentCause.WatchFailed ? 100 : commit.Peak;
            var severity = IncidentRules.SeverityFor(Policy, rollout.Environment, c, traffic);
            var verb = c switch { IncidentCause.Aborted => "aborted", IncidentCause.RolledBack => "rolled back", IncidentCause.WatchFailed => "failed its watch", _ => "failed" };
            var now = time.GetUtcNow();
            var incident = new Incident(0, $"{rollout.Service} {rollout.Release.Version} {verb} in {rollout.Environment}", severity, IncidentStatus.Open, rollout.Service, rollout.Environment, rollout.Id,
                rollout.Release.Version, string.Create(CultureInfo.InvariantCulture, $"{traffic}% of the traffic of {rollout.Service} in {rollout.Environment} was on {rollout.Release.Version}"), now, "gantry");
            var timeline = new List<TimelineEntry>
            {
                new(rollout.CreatedAt, "rollout", rollout.CreatedBy ?? "gantry", $"rollout {rollout.Id} of {rollout.Service} {rollout.Release.Version} to {rollout.Environment} created by {rollout.CreatedBy}", rollout.Id),
                new(what!.Time, "verdict", "gantry", $"{what.Type}: {what.Message}", rollout.Id),
                new(now, "opened", "gantry", $"opened by Gantry: {severity} (rule for {verb} rollouts in {rollout.Environment}, {traffic}% of the traffic affected)", rollout.Id),
            };
            var (paged, notify) = Opening(incident, timeline, now);
            var opened = await store.OpenIncidentAsync(paged, timeline, AuditContext.System, ct, notify);
            notifier?.Queued();
            await EscalateAsync(opened, ct);
        }
    }

    /// <summary>
    /// An incident as it opens: paged at once when the first level of escalation waits for nothing, in the same
    /// commit as the opening (nobody sees it open and not yet paged, and a crash cannot part them), with the
    /// notifications of both.
    /// </summary>
    private (Incident Incident, Func<Incident, IReadOnlyList<Outbox>> Notify) Opening(Incident incident, List<TimelineEntry> timeline, DateTimeOffset now)
    {
        if (IncidentRules.DueLevel(Policy, incident, now) is not 1)
        {
            return (incident, i => Notice("incident.opened", i, []) is { } opened ? [opened] : []);
        }

        var first = Policy.Escalation[0];
        timeline.Add(new TimelineEntry(now, "escalated", "gantry", Paged(first)));
        return (incident with { EscalationLevel = 1, EscalatedAt = now }, i => [.. new[] { Notice("incident.opened", i, []), Notice("incident.escalated", i, first.Notify) }.OfType<Outbox>()]);
    }

    /// <summary>The environment an incident opened with <paramref name="request"/> is about: the one named, or the service's default one.</summary>
    public string? EnvironmentOf(OpenIncidentRequest request) =>
        request.Service is null ? request.Environment : request.Environment ?? EffectiveService.DefaultEnvironmentOf(manifest);

    public async Task<Result<IncidentView>> MoveAsync(long id, IncidentStatus to, string? note, AuditContext who, CancellationToken ct)
    {
        if (Rollouts.Requests.TooLong(note, "note") is { } tooLong)
        {
            return tooLong;
        }

        if (await store.IncidentAsync(id, ct) is not { } incident)
        {
            return ProblemCodes.UnknownIncident.With($"there is no incident INC-{id}");
        }

        var now = time.GetUtcNow();
        var (moved, refusal) = IncidentRules.Move(incident, to, who.Actor, now);
        if (moved is null)
        {
            return ProblemCodes.IncidentRefused.With(refusal!);
        }

        var verb = to.ToString().ToLowerInvariant();
        var entry = new TimelineEntry(now, verb, who.Actor, $"{verb} by {who.Actor}" + (string.IsNullOrWhiteSpace(note) ? string.Empty : $": {note.Trim()}"));
        if (!await store.SaveIncidentAsync(moved, incident.Revision, [entry], who with { Reason = note }, $"incident.{verb}", ct, Notice($"incident.{verb}", moved, [])))
        {
            return ProblemCodes.ChangedMeanwhile.With($"{incident.Key} changed meanwhile: try again");
        }

        notifier?.Queued();
        return await ViewAsync(moved, ct);
    }

    /// <summary>Escalates every open, unacknowledged incident whose next level is due (looked at every pass of the reconcile loop).</summary>
    public async Task EscalateDueAsync(CancellationToken ct)
    {
        if (Policy.Escalation.IsEmpty)
        {
            return;
        }

        foreach (var incident in await store.IncidentsAsync(new IncidentQuery(OpenOnly: true, Limit: 1000), ct))
        {
            await EscalateAsync(incident, ct);
        }
    }

    private async Task EscalateAsync(Incident incident, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        while (IncidentRules.DueLevel(Policy, incident, now) is { } level)
        {
            var spec = Policy.Escalation[level - 1];
            var escalated = incident with { EscalationLevel = level, EscalatedAt = now, Revision = incident.Revision + 1 };
            var text = level == 1
                ? Paged(spec)
                : $"escalated to {spec.Name} ({string.Join(", ", spec.Notify)}): not acknowledged {Core.Manifest.Values.DurationSyntax.Format(spec.After)} after {Policy.Escalation[level - 2].Name}";
            if (!await store.SaveIncidentAsync(escalated, incident.Revision, [new TimelineEntry(now, "escalated", "gantry", text)], AuditContext.System, "incident.escalated", ct,
                Notice("incident.escalated", escalated, spec.Notify)))
            {
                return;
            }

            notifier?.Queued();
            incident = escalated;
        }
    }

    public async Task<Result<IncidentView>> GetAsync(long id, CancellationToken ct) =>
        await store.IncidentAsync(id, ct) is { } incident ? await ViewAsync(incident, ct) : ProblemCodes.UnknownIncident.With($"there is no incident INC-{id}");

    public async Task<IncidentView> ViewAsync(Incident incident, CancellationToken ct)
    {
        var next = IncidentRules.NextEscalationAt(Policy, incident);
        return new IncidentView(incident, await store.TimelineAsync(incident.Id, ct), IncidentRules.Targets(Policy, incident, time.GetUtcNow()), next,
            next is null ? null : Policy.Escalation[incident.EscalationLevel].Name);
    }

    private static string Paged(Core.Manifest.EscalationLevel level) => $"paged {level.Name} ({string.Join(", ", level.Notify)})";

    private Outbox? Notice(string kind, Incident incident, IReadOnlyList<string> receivers) => notifier?.ForIncident(kind, incident, receivers);

    private static Problem Bad(string detail) => ProblemCodes.InvalidRequest.With(detail);
}
