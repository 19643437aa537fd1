using System.Globalization;
using System.Text.Json;
using Gantry.Core.Audit;
using Gantry.Core.Dora;
using Gantry.Core.Incidents;
using Gantry.Core.Notifications;
using Gantry.Core.Rollouts;
using System.Data.Common;

namespace Gantry.Storage.Sql;

/// <summary>Incidents with their timelines, the notification outbox, and the facts of DORA metrics.</summary>
public partial class SqlStore : IIncidentStore, IDeliveryStore, IDoraStore
{
    public async Task<Incident> OpenIncidentAsync(Incident incident, IReadOnlyList<TimelineEntry> timeline, AuditContext who, CancellationToken ct, Func<Incident, IReadOnlyList<Outbox>>? notify = null)
    {
        Incident opened = incident;
        await WriteAsync((connection, transaction) =>
        {
            using (var insert = Command(connection, transaction, """
                INSERT INTO incidents (service, environment, rollout_id, status, opened_ms, resolved_ms, revision, record)
                VALUES (@s, @e, @r, @status, @opened, NULL, @rev, '{}') RETURNING id
                """, ("@s", (object?)incident.Service ?? DBNull.Value), ("@e", (object?)incident.Environment ?? DBNull.Value), ("@r", (object?)incident.RolloutId ?? DBNull.Value),
                ("@status", incident.Status.ToString()), ("@opened", incident.OpenedAt.ToUnixTimeMilliseconds()), ("@rev", incident.Revision)))
            {
                opened = incident with { Id = Convert.ToInt64(insert.ExecuteScalar(), CultureInfo.InvariantCulture) };
            }

            using (var record = Command(connection, transaction, "UPDATE incidents SET record = @record WHERE id = @id", ("@record", JsonSerializer.Serialize(opened, GantryJson.Options)), ("@id", opened.Id)))
            {
                record.ExecuteNonQuery();
            }

            MarkCause(connection, transaction, opened.RolloutId);
            AppendTimeline(connection, transaction, opened.Id, timeline);
            AppendAudit(connection, transaction, opened.OpenedAt, who, AuditEntries.IncidentOpened(opened));
            foreach (var page in timeline.Where(e => e.Kind == "escalated"))
            {
                AppendAudit(connection, transaction, page.At, AuditContext.System, AuditEntries.IncidentStep("incident.escalated", opened, page));
            }

            foreach (var outbox in notify?.Invoke(opened) ?? [])
            {
                InsertDeliveries(connection, transaction, outbox);
            }

            return true;
        }, ct);
        return opened;
    }

    public async Task<bool> SaveIncidentAsync(Incident incident, long expectedRevision, IReadOnlyList<TimelineEntry> timeline, AuditContext who, string action, CancellationToken ct, Outbox? notify = null)
    {
        var saved = false;
        await WriteAsync((connection, transaction) =>
        {
            using var update = Command(connection, transaction, """
                UPDATE incidents SET status = @status, resolved_ms = @resolved, revision = @rev, record = @record, rollout_id = @r WHERE id = @id AND revision = @expected
                """, ("@status", incident.Status.ToString()), ("@resolved", Number(incident.ResolvedAt?.ToUnixTimeMilliseconds())),
                ("@rev", incident.Revision), ("@record", JsonSerializer.Serialize(incident, GantryJson.Options)), ("@r", (object?)incident.RolloutId ?? DBNull.Value),
                ("@id", incident.Id), ("@expected", expectedRevision));
            saved = update.ExecuteNonQuery() == 1;
            if (!saved)
            {
                return false;
            }

            MarkCause(connection, transaction, incident.RolloutId);
            AppendTimeline(connection, transaction, incident.Id, timeline);
            foreach (var entry in timeline)
            {
                AppendAudit(connection, transaction, entry.At, who, AuditEntries.IncidentStep(action, incident, entry));
            }

            InsertDeliveries(connection, transaction, notify);
            return true;
        }, ct);
        return saved;
    }

    /// <summary>Marks the rollout an incident names as its cause (a change failure for DORA).</summary>
    private static void MarkCause(DbConnection connection, DbTransaction transaction, string? rolloutId)
    {
        if (rolloutId is not null)
        {
            using var mark = Command(connection, transaction, "UPDATE rollouts SET incident = 1 WHERE id = @r", ("@r", rolloutId));
            mark.ExecuteNonQuery();
        }
    }

    private static void AppendTimeline(DbConnection connection, DbTransaction transaction, long incidentId, IReadOnlyList<TimelineEntry> timeline)
    {
        foreach (var e in timeline)
        {
            using var insert = Command(connection, transaction, "INSERT INTO incident_timeline (incident_id, at, kind, by_, text, rollout_id) VALUES (@i, @at, @k, @b, @t, @r)",
                ("@i", incidentId), ("@at", Time(e.At)), ("@k", e.Kind), ("@b", e.By), ("@t", e.Text), ("@r", (object?)e.RolloutId ?? DBNull.Value));
            insert.ExecuteNonQuery();
        }
    }

    public async Task<Incident?> IncidentAsync(long id, CancellationToken ct)
    {
        await using var connection = Connect();
        return ReadIncidents(connection, "WHERE id = @id", ("@id", id)).FirstOrDefault();
    }

    public async Task<IReadOnlyList<Incident>> IncidentsAsync(IncidentQuery query, CancellationToken ct)
    {
        await using var connection = Connect();
        return ReadIncidents(connection, """
            WHERE (@s IS NULL OR service = @s) AND (@e IS NULL OR environment = @e) AND (@open = 0 OR status <> 'Resolved') AND (@since IS NULL OR opened_ms >= @since)
            ORDER BY id DESC LIMIT @limit
            """, ("@s", (object?)query.Service ?? DBNull.Value), ("@e", (object?)query.Environment ?? DBNull.Value), ("@open", query.OpenOnly ? 1 : 0),
            ("@since", Number(query.Since?.ToUnixTimeMilliseconds())), ("@limit", query.Limit));
    }

    public async Task<Incident?> IncidentOfRolloutAsync(string rolloutId, CancellationToken ct)
    {
        await using var connection = Connect();
        return ReadIncidents(connection, "WHERE rollout_id = @r ORDER BY id LIMIT 1", ("@r", rolloutId)).FirstOrDefault();
    }

    public async Task<IReadOnlyList<TimelineEntry>> TimelineAsync(long id, CancellationToken ct)
    {
        await using var connection = Connect();
        using var command = Command(connection, null, "SELECT at, kind, by_, text, rollout_id FROM incident_timeline WHERE incident_id = @i ORDER BY id", ("@i", id));
        using var reader = command.ExecuteReader();
        var list = new List<TimelineEntry>();
        while (reader.Read())
        {
            list.Add(new TimelineEntry(DateTimeOffset.Parse(reader.GetString(0), CultureInfo.InvariantCulture), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.IsDBNull(4) ? null : reader.GetString(4)));
        }

        return list;
    }

    private static List<Incident> ReadIncidents(DbConnection connection, string where, params (string, object)[] parameters)
    {
        using var command = Command(connection, null, $"SELECT record FROM incidents {where}", parameters);
        using var reader = command.ExecuteReader();
        var list = new List<Incident>();
        while (reader.Read())
        {
            list.Add(JsonSerializer.Deserialize<Incident>(reader.GetString(0), GantryJson.Options)!);
        }

        return list;
    }

    public async Task EnqueueAsync(Outbox outbox, CancellationToken ct) => await WriteAsync((connection, transaction) =>
    {
        InsertDeliveries(connection, transaction, outbox);
        return true;
    }, ct);

    /// <summary>A notification's deliveries, one per receiver, in the caller's transaction; a key and receiver already queued are left as they are.</summary>
    private static void InsertDeliveries(DbConnection connection, DbTransaction transaction, Outbox? outbox)
    {
        if (outbox is null)
        {
            return;
        }

        var payload = JsonSerializer.Serialize(outbox.Notification, GantryJson.Options);
        foreach (var receiver in outbox.Receivers)
        {
            using var insert = Command(connection, transaction, """
                INSERT INTO deliveries (receiver, event, payload, status, attempts, next_ms, created_at, key) VALUES (@r, @e, @p, 'Pending', 0, @next, @at, @key)
                ON CONFLICT DO NOTHING
                """, ("@r", receiver), ("@e", outbox.Notification.Event), ("@p", payload), ("@next", outbox.At.ToUnixTimeMilliseconds()), ("@at", Time(outbox.At)),
                ("@key", $"{outbox.Key} {receiver}"));
            insert.ExecuteNonQuery();
        }
    }

    public async Task<IReadOnlyList<Delivery>> DueDeliveriesAsync(DateTimeOffset now, int limit, CancellationToken ct)
    {
        await using var connection = Connect();
        return ReadDeliveries(connection, "WHERE status = 'Pending' AND next_ms <= @now ORDER BY next_ms, id LIMIT @limit", ("@now", now.ToUnixTimeMilliseconds()), ("@limit", limit));
    }

    public async Task<IReadOnlyList<Delivery>> DeliveriesAsync(DeliveryStatus? status, int limit, CancellationToken ct)
    {
        await using var connection = Connect();
        return ReadDeliveries(connection, "WHERE (@s IS NULL OR status = @s) ORDER BY id DESC LIMIT @limit", ("@s", (object?)status?.ToString() ?? DBNull.Value), ("@limit", limit));
    }

    public async Task DeliveredAsync(long id, int attempts, DateTimeOffset at, CancellationToken ct) =>
        await WriteAsync((connection, transaction) =>
        {
            using var update = Command(connection, transaction, "UPDATE deliveries SET status = 'Delivered', attempts = @a, done_at = @at WHERE id = @id", ("@a", attempts), ("@at", Time(at)), ("@id", id));
            return update.ExecuteNonQuery() == 1;
        }, ct);

    public async Task FailedAsync(long id, int attempts, DateTimeOffset nextAt, string reason, bool dead, DateTimeOffset at, CancellationToken ct) =>
        await WriteAsync((connection, transaction) =>
        {
            using var update = Command(connection, transaction, """
                UPDATE deliveries SET status = @s, attempts = @a, next_ms = @next, last_error = @err, done_at = @done WHERE id = @id
                """, ("@s", dead ? "Dead" : "Pending"), ("@a", attempts), ("@next", nextAt.ToUnixTimeMilliseconds()), ("@err", reason), ("@done", dead ? Time(at) : DBNull.Value), ("@id", id));
            return update.ExecuteNonQuery() == 1;
        }, ct);

    private static List<Delivery> ReadDeliveries(DbConnection connection, string where, params (string, object)[] parameters)
    {
        using var command = Command(connection, null, $"SELECT id, receiver, event, payload, status, attempts, next_ms, last_error, created_at, done_at FROM deliveries {where}", parameters);
        using var reader = command.ExecuteReader();
        var list = new List<Delivery>();
        while (reader.Read())
        {
            list.Add(new Delivery(
                reader.GetInt64(0), reader.GetString(1), reader.GetString(2), JsonSerializer.Deserialize<Notification>(reader.GetString(3), GantryJson.Options)!,
                Enum.Parse<DeliveryStatus>(reader.GetString(4)), reader.GetInt32(5), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(6)),
                reader.IsDBNull(7) ? null : reader.GetString(7), DateTimeOffset.Parse(reader.GetString(8), CultureInfo.InvariantCulture), ParseTime(reader, 9)));
        }

        return list;
    }


    public async Task<(IReadOnlyList<DeploymentFact> Rollouts, IReadOnlyList<RestoreFact> Incidents)> DoraFactsAsync(string? service, string? environment, DateTimeOffset since, DateTimeOffset until, CancellationToken ct)
    {
        await using var connection = Connect();
        if ((until - DoraMetrics.WeekOf(since)).TotalDays >= 7 * 127)
        {
            throw new ArgumentOutOfRangeException(nameof(until), "DORA facts are read for periods of up to two years");
        }

        // One integer per rollout, packed by SQLite from the covering index (week, outcome, incident, lead time):
        // a million are read in a few hundred milliseconds.
        var where = "r.created_ms >= @from AND r.created_ms < @to AND r.kind = 'Deploy'" + (service is null ? string.Empty : " AND r.service = @s") + (environment is null ? string.Empty : " AND r.environment = @e");
        var parameters = new List<(string, object)> { ("@from", since.ToUnixTimeMilliseconds()), ("@to", until.ToUnixTimeMilliseconds()), ("@week0", DoraMetrics.WeekOf(since).ToUnixTimeMilliseconds()) };
        if (service is not null)
        {
            parameters.Add(("@s", service));
        }

        if (environment is not null)
        {
            parameters.Add(("@e", environment));
        }

        var rollouts = new List<DeploymentFact>();
        using (var command = Command(connection, null, $"SELECT (((r.created_ms - @week0) / 604800000) << 56) | (r.outcome << 53) | (r.incident << 52) | r.lead_ms FROM rollouts r WHERE {where}", [.. parameters]))
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                var packed = reader.GetInt64(0);
                var lead = packed & NoLead;
                rollouts.Add(new DeploymentFact(
                    (int)(packed >> 56),
                    lead == NoLead ? null : TimeSpan.FromMilliseconds(lead),
                    ((packed >> 53) & 7) switch
                    {
                        0 => RolloutPhase.Succeeded,
                        1 => RolloutPhase.RolledBack,
                        2 => RolloutPhase.Aborted,
                        3 => RolloutPhase.Failed,
                        _ => RolloutPhase.Progressing,
                    },
                    ((packed >> 52) & 1) != 0));
            }
        }

        var incidents = new List<RestoreFact>();
        using (var command = Command(connection, null, """
            SELECT opened_ms, resolved_ms FROM incidents
            WHERE opened_ms >= @from AND opened_ms < @to AND (@s IS NULL OR service = @s) AND (@e IS NULL OR environment = @e)
            """, ("@from", since.ToUnixTimeMilliseconds()), ("@to", until.ToUnixTimeMilliseconds()), ("@s", (object?)service ?? DBNull.Value), ("@e", (object?)environment ?? DBNull.Value)))
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                incidents.Add(new RestoreFact(DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(0)), reader.IsDBNull(1) ? null : DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(1))));
            }
        }

        return (rollouts, incidents);
    }
}
