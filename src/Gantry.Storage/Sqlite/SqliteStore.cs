using System.Globalization;
using System.Text.Json;
using Gantry.Core.Rollouts;
using Gantry.Core.Strategies;
using Gantry.Storage.Migrations;
using Microsoft.Data.Sqlite;

namespace Gantry.Storage.Sqlite;

/// <summary>
/// The embedded store: one SQLite file in write-ahead-log mode. A state and its events are written in one
/// transaction; the database itself refuses a second active rollout of a service and environment.
/// </summary>
public sealed partial class SqliteStore : IRolloutStore, IReleaseStore, Core.Analysis.IAnalysisStore, Core.Gates.IGateStore, Core.Checklists.IChecklistStore, Core.Audit.IAuditStore, Core.Policies.IFreezeStore, Core.Access.ITokenStore, Core.Approvals.IApprovalStore
{
    private readonly string connectionString;
    private readonly SemaphoreSlim writer = new(1, 1);

    /// <summary>How states, releases and queued deploys are written: secret values sealed when the store has a key.</summary>
    private readonly JsonSerializerOptions json;

    private readonly TimeProvider time;

    private SqliteStore(string connectionString, Secrets.SecretBox? secrets, TimeProvider time)
    {
        this.connectionString = connectionString;
        this.time = time;
        json = secrets is null ? GantryJson.Options : Secrets.SealedReleaseConverter.Options(secrets);
    }

    /// <summary>
    /// Opens (or creates) the database at <paramref name="path"/> and applies pending migrations. The file and its
    /// write-ahead log are its owner's only (0600); with <paramref name="secrets"/>, secret values are encrypted at rest.
    /// </summary>
    public static SqliteStore Open(string path, TimeProvider time, Secrets.SecretBox? secrets = null)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        OwnerOnly(path);
        var builder = new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadWriteCreate, Pooling = true, DefaultTimeout = 30 };
        var store = new SqliteStore(builder.ToString(), secrets, time);
        using var connection = store.Connect();
        using (var pragma = connection.CreateCommand())
        {
            pragma.CommandText = "PRAGMA journal_mode = WAL;";
            pragma.ExecuteNonQuery();
        }

        Migrator.Apply(connection, time);
        return store;
    }

    private SqliteConnection Connect()
    {
        var connection = new SqliteConnection(connectionString);
        connection.Open();
        using var pragma = connection.CreateCommand();
        pragma.CommandText = "PRAGMA busy_timeout = 10000; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;";
        pragma.ExecuteNonQuery();
        return connection;
    }

    public async Task<string> NextIdAsync(string service, string environment, CancellationToken ct)
    {
        await using var connection = Connect();
        var seq = NextSeq(connection, null, service, environment);
        return Id(service, environment, seq);
    }

    private static string Id(string service, string environment, long seq) => string.Create(CultureInfo.InvariantCulture, $"{service}-{environment}-{seq}");

    private static long NextSeq(SqliteConnection connection, SqliteTransaction? transaction, string service, string environment)
    {
        using var command = Command(connection, transaction, "SELECT COALESCE(MAX(seq), 0) + 1 FROM rollouts WHERE service = $s AND environment = $e", ("$s", service), ("$e", environment));
        return Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    public async Task<CommitOutcome> CreateAsync(RolloutState rollout, IReadOnlyList<RolloutEvent> events, CancellationToken ct, long? fromQueue = null, Core.Audit.AuditContext? who = null, RolloutChange? marks = null)
    {
        await writer.WaitAsync(ct);
        try
        {
            await using var connection = Connect();
            await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(ct);
            using (var busy = Command(connection, transaction, "SELECT COUNT(*) FROM rollouts WHERE service = $s AND environment = $e AND active = 1", ("$s", rollout.Service), ("$e", rollout.Environment)))
            {
                if (Convert.ToInt64(busy.ExecuteScalar(), CultureInfo.InvariantCulture) > 0)
                {
                    return CommitOutcome.Busy;
                }
            }

            var seq = NextSeq(connection, transaction, rollout.Service, rollout.Environment);
            using (var insert = Command(connection, transaction, """
                INSERT INTO rollouts (id, service, environment, seq, version, kind, phase, active, revision, created_at, updated_at, state, created_ms, finished_ms, commit_ms, outcome, lead_ms)
                VALUES ($id, $s, $e, $seq, $v, $k, $p, $a, $r, $c, $u, $state, $cms, $fms, $kms, $outcome, $lead)
                """, Row(rollout, seq)))
            {
                insert.ExecuteNonQuery();
            }

            using (var release = Command(connection, transaction, "INSERT OR IGNORE INTO releases (service, version, release, created_at) VALUES ($s, $v, $rel, $c)",
                ("$s", rollout.Service), ("$v", rollout.Release.Version), ("$rel", JsonSerializer.Serialize(rollout.Release, json)), ("$c", Time(rollout.CreatedAt))))
            {
                release.ExecuteNonQuery();
            }

            AppendEvents(connection, transaction, rollout, events, who?.Actor ?? rollout.CreatedBy);
            AuditEvents(connection, transaction, rollout, events, who ?? new Core.Audit.AuditContext(rollout.CreatedBy ?? "gantry"));
            if (marks is { } change)
            {
                // Changed meanwhile (it cannot be, under the target's lock): left as it is.
                Replace(connection, transaction, change.Rollout, change.ExpectedRevision, change.Events, who);
            }

            if (fromQueue is { } queued)
            {
                using var dequeue = Command(connection, transaction, "DELETE FROM queue WHERE id = $id", ("$id", queued));
                if (dequeue.ExecuteNonQuery() != 1)
                {
                    // Started by someone else meanwhile: nothing happens.
                    return CommitOutcome.Conflict;
                }
            }

            await transaction.CommitAsync(ct);
            return CommitOutcome.Committed;
        }
        finally
        {
            writer.Release();
        }
    }

    public async Task<QueuedDeploy> EnqueueAsync(QueuedDeploy deploy, CancellationToken ct)
    {
        await writer.WaitAsync(ct);
        try
        {
            await using var connection = Connect();
            using var insert = Command(connection, null, "INSERT INTO queue (service, environment, release, created_by, created_at) VALUES ($s, $e, $r, $b, $c) RETURNING id",
                ("$s", deploy.Service), ("$e", deploy.Environment), ("$r", JsonSerializer.Serialize(deploy.Release, json)), ("$b", deploy.CreatedBy), ("$c", Time(deploy.CreatedAt)));
            return deploy with { Id = Convert.ToInt64(insert.ExecuteScalar(), CultureInfo.InvariantCulture) };
        }
        finally
        {
            writer.Release();
        }
    }

    public async Task<bool> RemoveQueuedAsync(long id, CancellationToken ct, Core.Audit.AuditContext? who = null, string? why = null)
    {
        await writer.WaitAsync(ct);
        try
        {
            await using var connection = Connect();
            using var transaction = connection.BeginTransaction();
            using var delete = Command(connection, transaction, "DELETE FROM queue WHERE id = $id RETURNING service, environment, release", ("$id", id));
            using (var reader = delete.ExecuteReader())
            {
                if (!reader.Read())
                {
                    return false;
                }

                if (who is not null)
                {
                    var version = JsonSerializer.Deserialize<Release>(reader.GetString(2), json)!.Version;
                    var (service, environment) = (reader.GetString(0), reader.GetString(1));
                    reader.Close();
                    AppendAudit(connection, transaction, time.GetUtcNow(), who, Core.Audit.AuditEntries.QueueRemoved(id, service, environment, version, why, who.Actor));
                }
            }

            transaction.Commit();
            return true;
        }
        finally
        {
            writer.Release();
        }
    }

    public async Task<IReadOnlyList<QueuedDeploy>> QueuedAsync(string? service, string? environment, CancellationToken ct)
    {
        await using var connection = Connect();
        using var command = Command(connection, null, """
            SELECT id, service, environment, release, created_by, created_at FROM queue
            WHERE ($s IS NULL OR service = $s) AND ($e IS NULL OR environment = $e) ORDER BY id
            """, ("$s", (object?)service ?? DBNull.Value), ("$e", (object?)environment ?? DBNull.Value));
        using var reader = command.ExecuteReader();
        var list = new List<QueuedDeploy>();
        while (reader.Read())
        {
            list.Add(new QueuedDeploy(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), JsonSerializer.Deserialize<Release>(reader.GetString(3), json)!,
                reader.GetString(4), DateTimeOffset.Parse(reader.GetString(5), CultureInfo.InvariantCulture)));
        }

        return list;
    }

    public async Task<CommitOutcome> SaveAsync(RolloutState rollout, long expectedRevision, IReadOnlyList<RolloutEvent> events, CancellationToken ct, Core.Audit.AuditContext? who = null)
    {
        await writer.WaitAsync(ct);
        try
        {
            await using var connection = Connect();
            await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(ct);
            if (!Replace(connection, transaction, rollout, expectedRevision, events, who))
            {
                return CommitOutcome.Conflict;
            }

            await transaction.CommitAsync(ct);
            return CommitOutcome.Committed;
        }
        catch (SqliteException ex) when (ex.SqliteErrorCode == 19)
        {
            // UNIQUE: a retry made this rollout active while another one of its service is.
            return CommitOutcome.Busy;
        }
        finally
        {
            writer.Release();
        }
    }

    /// <summary>A rollout's new state with its events and their audit records, if it is still at <paramref name="expectedRevision"/>; <paramref name="who"/> null: Gantry itself.</summary>
    private bool Replace(SqliteConnection connection, SqliteTransaction transaction, RolloutState rollout, long expectedRevision, IReadOnlyList<RolloutEvent> events, Core.Audit.AuditContext? who)
    {
        using (var update = Command(connection, transaction, """
            UPDATE rollouts SET phase = $p, active = $a, revision = $r, updated_at = $u, state = $state, finished_ms = $fms, commit_ms = $kms, outcome = $outcome, lead_ms = $lead
            WHERE id = $id AND revision = $expected
            """, [.. Row(rollout, 0), ("$expected", expectedRevision)]))
        {
            if (update.ExecuteNonQuery() != 1)
            {
                return false;
            }
        }

        AppendEvents(connection, transaction, rollout, events, who?.Actor);
        AuditEvents(connection, transaction, rollout, events, who ?? Core.Audit.AuditContext.System);
        return true;
    }

    private (string, object)[] Row(RolloutState r, long seq) =>
    [
        ("$id", r.Id), ("$s", r.Service), ("$e", r.Environment), ("$seq", seq), ("$v", r.Release.Version), ("$k", r.Kind.ToString()),
        ("$p", r.Phase.ToString()), ("$a", r.Phase.IsTerminal() ? 0 : 1), ("$r", r.Revision), ("$c", Time(r.CreatedAt)), ("$u", Time(r.UpdatedAt)),
        ("$state", JsonSerializer.Serialize(r, json)),
        ("$cms", r.CreatedAt.ToUnixTimeMilliseconds()), ("$fms", r.FinishedAt is { } f ? f.ToUnixTimeMilliseconds() : DBNull.Value),
        ("$kms", r.Release.CommitTime is { } k ? k.ToUnixTimeMilliseconds() : DBNull.Value),
        ("$outcome", Core.Dora.DeploymentFacts.OutcomeOf(r.Phase)),
        ("$lead", Core.Dora.DeploymentFacts.LeadTimeOf(r) is { } lead ? Math.Min(lead.Ticks / TimeSpan.TicksPerMillisecond, NoLead - 1) : NoLead),
    ];

    /// <summary>The lead-time bits of a packed DORA fact (52 bits of milliseconds), all set: no lead time (no commit time, or no end).</summary>
    private const long NoLead = (1L << 52) - 1;

    /// <summary>Each event of a rollout, in the audit trail, in the transaction that commits it.</summary>
    private static void AuditEvents(SqliteConnection connection, SqliteTransaction transaction, RolloutState rollout, IReadOnlyList<RolloutEvent> events, Core.Audit.AuditContext who)
    {
        if (events.Count == 0)
        {
            return;
        }

        var chain = ApprovalChain(connection, transaction, rollout.Id);
        foreach (var e in events)
        {
            AppendAudit(connection, transaction, rollout.UpdatedAt, who, Core.Audit.AuditEntries.RolloutEvent(rollout, e), chain);
        }
    }

    /// <summary>Who approved a rollout, oldest first, as one line; null when nobody did.</summary>
    private static string? ApprovalChain(SqliteConnection connection, SqliteTransaction? transaction, string rolloutId)
    {
        var approvals = ReadApprovals(connection, transaction, rolloutId).Where(a => a.Decision == Core.Approvals.ApprovalDecision.Approved).ToList();
        return approvals.Count == 0 ? null : string.Join("; ", approvals.Select(a => a.Describe()));
    }

    /// <summary>Appends one event to the audit trail, chained to the recorded head, and moves the head to it.</summary>
    private static void AppendAudit(SqliteConnection connection, SqliteTransaction? transaction, DateTimeOffset at, Core.Audit.AuditContext who, Core.Audit.AuditEntry entry, string? approvals = null)
    {
        long last = 0;
        var previous = Core.Audit.AuditChain.Genesis;
        using (var head = Command(connection, transaction, "SELECT seq, hash FROM audit_head WHERE id = 1"))
        using (var reader = head.ExecuteReader())
        {
            if (reader.Read())
            {
                last = reader.GetInt64(0);
                previous = reader.GetString(1);
            }
        }

        var seq = last + 1;
        var (action, target, detail) = entry;
        var hash = Core.Audit.AuditChain.HashOf(seq, at, who.Actor, action, target, detail, who.Reason, who.Source, previous, approvals);
        using var insert = Command(connection, transaction, """
            INSERT INTO audit (seq, at, actor, action, target, detail, reason, source, prev_hash, hash, approvals) VALUES ($seq, $at, $actor, $action, $target, $detail, $reason, $source, $prev, $hash, $approvals);
            INSERT INTO audit_head (id, seq, hash) VALUES (1, $seq, $hash) ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash;
            """,
            ("$seq", seq), ("$at", Time(at)), ("$actor", who.Actor), ("$action", action), ("$target", target), ("$detail", detail),
            ("$reason", (object?)who.Reason ?? DBNull.Value), ("$source", (object?)who.Source ?? DBNull.Value), ("$prev", previous), ("$hash", hash), ("$approvals", (object?)approvals ?? DBNull.Value));
        insert.ExecuteNonQuery();
    }

    public async Task<IReadOnlyList<Core.Audit.AuditEvent>> AuditAsync(Core.Audit.AuditQuery query, CancellationToken ct)
    {
        await using var connection = Connect();
        using var command = Command(connection, null, """
            SELECT seq, at, actor, action, target, detail, reason, source, prev_hash, hash, approvals FROM audit
            WHERE ($target IS NULL OR target = $target OR substr(target, 1, length($prefix)) = $prefix) AND ($since IS NULL OR at >= $since)
            ORDER BY seq DESC LIMIT $limit
            """,
            ("$target", (object?)query.Target ?? DBNull.Value), ("$prefix", query.Target is null ? DBNull.Value : query.Target + "/"),
            ("$since", query.Since is { } since ? Time(since) : DBNull.Value), ("$limit", query.Limit));
        var list = new List<Core.Audit.AuditEvent>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            list.Add(ReadAudit(reader));
        }

        list.Reverse();
        return list;
    }

    public async IAsyncEnumerable<Core.Audit.AuditEvent> AllAuditAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        await using var connection = Connect();
        using var command = Command(connection, null, "SELECT seq, at, actor, action, target, detail, reason, source, prev_hash, hash, approvals FROM audit ORDER BY seq");
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            ct.ThrowIfCancellationRequested();
            yield return ReadAudit(reader);
        }
    }

    public async Task<string?> AuditHeadAsync(CancellationToken ct)
    {
        await using var connection = Connect();
        using var command = Command(connection, null, "SELECT hash FROM audit_head WHERE id = 1");
        return command.ExecuteScalar() as string;
    }

    private static Core.Audit.AuditEvent ReadAudit(SqliteDataReader r) => new(
        r.GetInt64(0), DateTimeOffset.Parse(r.GetString(1), CultureInfo.InvariantCulture), r.GetString(2), r.GetString(3), r.GetString(4), r.GetString(5),
        r.IsDBNull(6) ? null : r.GetString(6), r.IsDBNull(7) ? null : r.GetString(7), r.GetString(8), r.GetString(9), r.IsDBNull(10) ? null : r.GetString(10));

    /// <summary>A commit's events, each with what the commit was (who, the phase left, the release's share and its largest share so far).</summary>
    private static void AppendEvents(SqliteConnection connection, SqliteTransaction transaction, RolloutState rollout, IReadOnlyList<RolloutEvent> events, string? actor)
    {
        if (events.Count == 0)
        {
            return;
        }

        using var max = Command(connection, transaction, "SELECT COALESCE(MAX(seq), 0), COALESCE(MAX(peak), 0) FROM events WHERE rollout_id = $id", ("$id", rollout.Id));
        int seq, peak;
        using (var last = max.ExecuteReader())
        {
            last.Read();
            (seq, peak) = (last.GetInt32(0), last.GetInt32(1));
        }

        var share = TrafficGroups.ShareOf(rollout);
        peak = Math.Max(peak, share);
        using var insert = Command(connection, transaction, """
            INSERT INTO events (rollout_id, seq, revision, time, type, message, actor, phase, share, peak)
            VALUES ($id, $seq, $r, $t, $type, $m, $actor, $phase, $share, $peak)
            """);
        foreach (var e in events)
        {
            insert.Parameters.Clear();
            foreach (var (name, value) in new (string, object)[]
            {
                ("$id", rollout.Id), ("$seq", ++seq), ("$r", rollout.Revision), ("$t", Time(rollout.UpdatedAt)), ("$type", e.Type.ToString()), ("$m", e.Message),
                ("$actor", (object?)actor ?? DBNull.Value), ("$phase", rollout.Phase.ToString()), ("$share", share), ("$peak", peak),
            })
            {
                insert.Parameters.AddWithValue(name, value);
            }

            insert.ExecuteNonQuery();
        }
    }

    public async Task<RolloutState?> GetAsync(string id, CancellationToken ct)
    {
        await using var connection = Connect();
        using var command = Command(connection, null, "SELECT state FROM rollouts WHERE id = $id", ("$id", id));
        return command.ExecuteScalar() is string json ? Parse(json) : null;
    }

    public async Task<IReadOnlyList<RolloutState>> ListAsync(RolloutQuery query, CancellationToken ct)
    {
        await using var connection = Connect();
        using var command = Command(connection, null, """
            SELECT state FROM rollouts
            WHERE ($s IS NULL OR service = $s) AND ($e IS NULL OR environment = $e) AND ($active = 0 OR active = 1)
            ORDER BY created_at DESC, seq DESC LIMIT $limit
            """, ("$s", (object?)query.Service ?? DBNull.Value), ("$e", (object?)query.Environment ?? DBNull.Value), ("$active", query.ActiveOnly ? 1 : 0), ("$limit", query.Limit));
        return ReadStates(command);
    }

    public async Task<IReadOnlyList<RolloutState>> LatestPerTargetAsync(CancellationToken ct)
    {
        await using var connection = Connect();
        using var command = Command(connection, null, """
            SELECT r.state FROM rollouts r
            JOIN (SELECT service, environment, MAX(seq) AS seq FROM rollouts GROUP BY service, environment) latest
              ON latest.service = r.service AND latest.environment = r.environment AND latest.seq = r.seq
            ORDER BY r.service, r.environment
            """);
        return ReadStates(command);
    }

    public async Task<IReadOnlyList<StoredEvent>> EventsAsync(long afterId, string? rolloutId, int limit, CancellationToken ct)
    {
        await using var connection = Connect();
        using var command = Command(connection, null, """
            SELECT e.id, e.rollout_id, e.seq, e.revision, e.time, r.service, r.environment, e.type, e.message
            FROM events e JOIN rollouts r ON r.id = e.rollout_id
            WHERE e.id > $after AND ($r IS NULL OR e.rollout_id = $r)
            ORDER BY e.id LIMIT $limit
            """, ("$after", afterId), ("$r", (object?)rolloutId ?? DBNull.Value), ("$limit", limit));
        using var reader = command.ExecuteReader();
        var list = new List<StoredEvent>();
        while (reader.Read())
        {
            list.Add(new StoredEvent(reader.GetInt64(0), reader.GetString(1), reader.GetInt32(2), reader.GetInt64(3),
                DateTimeOffset.Parse(reader.GetString(4), CultureInfo.InvariantCulture), reader.GetString(5), reader.GetString(6), reader.GetString(7), reader.GetString(8)));
        }

        return list;
    }

    public async Task<IReadOnlyList<CommittedEvent>> CommittedEventsAsync(long afterId, int limit, CancellationToken ct)
    {
        await using var connection = Connect();
        using var command = Command(connection, null, """
            SELECT e.id, e.rollout_id, e.seq, e.revision, e.time, r.service, r.environment, e.type, e.message, e.actor, e.phase, e.share, e.peak
            FROM events e JOIN rollouts r ON r.id = e.rollout_id
            WHERE e.id > $after AND e.phase IS NOT NULL
            ORDER BY e.id LIMIT $limit
            """, ("$after", afterId), ("$limit", limit));
        using var reader = command.ExecuteReader();
        var list = new List<CommittedEvent>();
        while (reader.Read())
        {
            var stored = new StoredEvent(reader.GetInt64(0), reader.GetString(1), reader.GetInt32(2), reader.GetInt64(3),
                DateTimeOffset.Parse(reader.GetString(4), CultureInfo.InvariantCulture), reader.GetString(5), reader.GetString(6), reader.GetString(7), reader.GetString(8));
            list.Add(new CommittedEvent(stored, reader.IsDBNull(9) ? null : reader.GetString(9), Enum.Parse<RolloutPhase>(reader.GetString(10)), reader.GetInt32(11), reader.GetInt32(12)));
        }

        return list;
    }

    public async Task<long> CursorAsync(string name, CancellationToken ct)
    {
        await using var connection = Connect();
        using var command = Command(connection, null, "SELECT position FROM cursors WHERE name = $n", ("$n", name));
        return command.ExecuteScalar() is long position ? position : 0;
    }

    public async Task MoveCursorAsync(string name, long position, CancellationToken ct)
    {
        await WriteAsync((connection, transaction) =>
        {
            using var upsert = Command(connection, transaction, "INSERT INTO cursors (name, position) VALUES ($n, $p) ON CONFLICT (name) DO UPDATE SET position = MAX(position, excluded.position)", ("$n", name), ("$p", position));
            upsert.ExecuteNonQuery();
            return true;
        }, ct);
    }

    public async Task SaveInstancesAsync(string service, string environment, IReadOnlyList<InstanceRecord> instances, CancellationToken ct)
    {
        await writer.WaitAsync(ct);
        try
        {
            await using var connection = Connect();
            await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(ct);
            using (var delete = Command(connection, transaction, "DELETE FROM instances WHERE service = $s AND environment = $e", ("$s", service), ("$e", environment)))
            {
                delete.ExecuteNonQuery();
            }

            foreach (var i in instances)
            {
                using var insert = Command(connection, transaction, "INSERT INTO instances (id, service, environment, version, record, updated_at) VALUES ($id, $s, $e, $v, $r, $t)",
                    ("$id", i.Id), ("$s", service), ("$e", environment), ("$v", i.Version), ("$r", JsonSerializer.Serialize(i, json)), ("$t", Time(i.ObservedAt)));
                insert.ExecuteNonQuery();
            }

            await transaction.CommitAsync(ct);
        }
        finally
        {
            writer.Release();
        }
    }

    public async Task<IReadOnlyList<InstanceRecord>> InstancesAsync(string? service, string? environment, CancellationToken ct)
    {
        await using var connection = Connect();
        using var command = Command(connection, null, """
            SELECT record FROM instances WHERE ($s IS NULL OR service = $s) AND ($e IS NULL OR environment = $e) ORDER BY service, environment, id
            """, ("$s", (object?)service ?? DBNull.Value), ("$e", (object?)environment ?? DBNull.Value));
        using var reader = command.ExecuteReader();
        var list = new List<InstanceRecord>();
        while (reader.Read())
        {
            list.Add(JsonSerializer.Deserialize<InstanceRecord>(reader.GetString(0), json)!);
        }

        return list;
    }

    public async Task SaveAnalysisAsync(Core.Analysis.AnalysisRunRecord run, CancellationToken ct)
    {
        await writer.WaitAsync(ct);
        try
        {
            await using var connection = Connect();
            using var upsert = Command(connection, null, """
                INSERT INTO analysis_runs (key, rollout_id, record, updated_at) VALUES ($k, $r, $rec, $t)
                ON CONFLICT (key) DO UPDATE SET record = excluded.record, updated_at = excluded.updated_at
                """, ("$k", run.Key), ("$r", run.RolloutId), ("$rec", JsonSerializer.Serialize(run, json)), ("$t", Time(run.UpdatedAt)));
            upsert.ExecuteNonQuery();
        }
        finally
        {
            writer.Release();
        }
    }

    public async Task<IReadOnlyList<Core.Analysis.AnalysisRunRecord>> AnalysisAsync(string rolloutId, CancellationToken ct)
    {
        await using var connection = Connect();
        using var command = Command(connection, null, "SELECT record FROM analysis_runs WHERE rollout_id = $r ORDER BY rowid", ("$r", rolloutId));
        using var reader = command.ExecuteReader();
        var list = new List<Core.Analysis.AnalysisRunRecord>();
        while (reader.Read())
        {
            list.Add(JsonSerializer.Deserialize<Core.Analysis.AnalysisRunRecord>(reader.GetString(0), json)!);
        }

        return list;
    }

    public async Task<Core.Policies.DeclaredFreeze> DeclareFreezeAsync(Core.Policies.DeclaredFreeze freeze, CancellationToken ct, Core.Audit.AuditContext? who = null)
    {
        await writer.WaitAsync(ct);
        try
        {
            await using var connection = Connect();
            using var transaction = connection.BeginTransaction();
            using var insert = Command(connection, transaction, """
                INSERT INTO declared_freezes (environment, reason, declared_by, at, until) VALUES ($e, $r, $b, $at, $until);
                SELECT last_insert_rowid();
                """, ("$e", freeze.Environment), ("$r", freeze.Reason), ("$b", freeze.By), ("$at", Time(freeze.At)), ("$until", freeze.Until is { } u ? Time(u) : DBNull.Value));
            var stored = freeze with { Id = (long)insert.ExecuteScalar()! };
            AppendAudit(connection, transaction, freeze.At, who ?? new Core.Audit.AuditContext(freeze.By, freeze.Reason), Core.Audit.AuditEntries.Frozen(freeze));
            transaction.Commit();
            return stored;
        }
        finally
        {
            writer.Release();
        }
    }

    public async Task<IReadOnlyList<Core.Policies.DeclaredFreeze>> LiftFreezesAsync(string environment, string by, DateTimeOffset at, CancellationToken ct, Core.Audit.AuditContext? who = null)
    {
        await writer.WaitAsync(ct);
        try
        {
            await using var connection = Connect();
            using var transaction = connection.BeginTransaction();
            var active = ReadFreezes(connection, transaction, environment).Where(f => f.IsActive(at)).ToList();
            foreach (var freeze in active)
            {
                using var lift = Command(connection, transaction, "UPDATE declared_freezes SET lifted_at = $at, lifted_by = $b WHERE id = $id", ("$at", Time(at)), ("$b", by), ("$id", freeze.Id));
                lift.ExecuteNonQuery();
                AppendAudit(connection, transaction, at, who ?? new Core.Audit.AuditContext(by), Core.Audit.AuditEntries.Unfrozen(freeze));
            }

            transaction.Commit();
            return [.. active.Select(f => f with { LiftedAt = at, LiftedBy = by })];
        }
        finally
        {
            writer.Release();
        }
    }

    public async Task<IReadOnlyList<Core.Policies.DeclaredFreeze>> FreezesAsync(string? environment, CancellationToken ct)
    {
        await using var connection = Connect();
        return ReadFreezes(connection, null, environment);
    }

    private static List<Core.Policies.DeclaredFreeze> ReadFreezes(SqliteConnection connection, SqliteTransaction? transaction, string? environment)
    {
        using var command = Command(connection, transaction, """
            SELECT id, environment, reason, declared_by, at, until, lifted_at, lifted_by FROM declared_freezes
            WHERE $e IS NULL OR environment = $e ORDER BY id
            """, ("$e", (object?)environment ?? DBNull.Value));
        using var reader = command.ExecuteReader();
        var list = new List<Core.Policies.DeclaredFreeze>();
        while (reader.Read())
        {
            DateTimeOffset? At(int i) => reader.IsDBNull(i) ? null : DateTimeOffset.Parse(reader.GetString(i), CultureInfo.InvariantCulture);
            list.Add(new Core.Policies.DeclaredFreeze(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), At(4)!.Value, At(5), At(6), reader.IsDBNull(7) ? null : reader.GetString(7)));
        }

        return list;
    }

    public async Task SaveChecklistAsync(Core.Checklists.ChecklistRecord record, CancellationToken ct)
    {
        await writer.WaitAsync(ct);
        try
        {
            await using var connection = Connect();
            using var upsert = Command(connection, null, """
                INSERT INTO checklists (rollout_id, record, updated_at) VALUES ($r, $rec, $t)
                ON CONFLICT (rollout_id) DO UPDATE SET record = excluded.record, updated_at = excluded.updated_at
                """, ("$r", record.RolloutId), ("$rec", JsonSerializer.Serialize(record, json)), ("$t", Time(record.UpdatedAt)));
            upsert.ExecuteNonQuery();
        }
        finally
        {
            writer.Release();
        }
    }

    public async Task<Core.Checklists.ChecklistRecord?> ChecklistAsync(string rolloutId, CancellationToken ct)
    {
        await using var connection = Connect();
        using var command = Command(connection, null, "SELECT record FROM checklists WHERE rollout_id = $r", ("$r", rolloutId));
        return command.ExecuteScalar() is string text ? JsonSerializer.Deserialize<Core.Checklists.ChecklistRecord>(text, json) : null;
    }

    public async Task<bool> SignAsync(Core.Checklists.SignOff signOff, CancellationToken ct, Core.Audit.AuditContext? who = null)
    {
        await writer.WaitAsync(ct);
        try
        {
            await using var connection = Connect();
            using var transaction = connection.BeginTransaction();
            using var insert = Command(connection, transaction, """
                INSERT INTO signoffs (rollout_id, item, signed_by, signed_at) VALUES ($r, $i, $b, $t) ON CONFLICT DO NOTHING
                """, ("$r", signOff.RolloutId), ("$i", signOff.Item), ("$b", signOff.By), ("$t", Time(signOff.At)));
            if (insert.ExecuteNonQuery() != 1)
            {
                return false;
            }

            // Known by service/environment/rollout like the rollout's own events, so gantry audit --service --env finds it.
            string target;
            using (var rollout = Command(connection, transaction, "SELECT service || '/' || environment || '/' || id FROM rollouts WHERE id = $id", ("$id", signOff.RolloutId)))
            {
                target = rollout.ExecuteScalar() as string ?? signOff.RolloutId;
            }

            AppendAudit(connection, transaction, signOff.At, who ?? new Core.Audit.AuditContext(signOff.By), Core.Audit.AuditEntries.SignedOff(signOff, target));
            transaction.Commit();
            return true;
        }
        finally
        {
            writer.Release();
        }
    }

    public async Task<IReadOnlyList<Core.Checklists.SignOff>> SignOffsAsync(string rolloutId, CancellationToken ct)
    {
        await using var connection = Connect();
        using var command = Command(connection, null, "SELECT item, signed_by, signed_at FROM signoffs WHERE rollout_id = $r ORDER BY signed_at", ("$r", rolloutId));
        using var reader = command.ExecuteReader();
        var list = new List<Core.Checklists.SignOff>();
        while (reader.Read())
        {
            list.Add(new Core.Checklists.SignOff(rolloutId, reader.GetString(0), reader.GetString(1), DateTimeOffset.Parse(reader.GetString(2), CultureInfo.InvariantCulture)));
        }

        return list;
    }

    public async Task<long> SaveEvaluationAsync(Core.Gates.GateEvaluation evaluation, Core.Audit.AuditContext who, CancellationToken ct)
    {
        await writer.WaitAsync(ct);
        try
        {
            await using var connection = Connect();
            using var transaction = connection.BeginTransaction();
            AppendAudit(connection, transaction, evaluation.At, who, Core.Audit.AuditEntries.GateEvaluated(evaluation));
            using var insert = Command(connection, transaction, """
                INSERT INTO gate_evaluations (gate, service, version, decision, score, evaluation, at) VALUES ($g, $s, $v, $d, $sc, $e, $t);
                SELECT last_insert_rowid();
                """,
                ("$g", evaluation.Gate), ("$s", evaluation.Service), ("$v", evaluation.Version), ("$d", evaluation.Decision.ToString()),
                ("$sc", evaluation.Score), ("$e", JsonSerializer.Serialize(evaluation, json)), ("$t", Time(evaluation.At)));
            var id = (long)insert.ExecuteScalar()!;
            transaction.Commit();
            return id;
        }
        finally
        {
            writer.Release();
        }
    }

    public async Task<Core.Gates.GateEvaluation?> LatestEvaluationAsync(string gate, string service, string? version, CancellationToken ct)
    {
        await using var connection = Connect();
        using var command = Command(connection, null, """
            SELECT evaluation FROM gate_evaluations
            WHERE gate = $g AND service = $s AND ($v IS NULL OR version = $v)
            ORDER BY id DESC LIMIT 1
            """, ("$g", gate), ("$s", service), ("$v", (object?)version ?? DBNull.Value));
        return command.ExecuteScalar() is string text ? JsonSerializer.Deserialize<Core.Gates.GateEvaluation>(text, json) : null;
    }

    public async Task<Core.Gates.GateEvaluation?> OverrideAsync(string gate, string service, string version, Core.Gates.GateOverride decision, CancellationToken ct, Core.Audit.AuditContext? who = null)
    {
        await writer.WaitAsync(ct);
        try
        {
            await using var connection = Connect();
            using var transaction = connection.BeginTransaction();
            using var select = Command(connection, transaction, """
                SELECT id, evaluation FROM gate_evaluations WHERE gate = $g AND service = $s AND version = $v ORDER BY id DESC LIMIT 1
                """, ("$g", gate), ("$s", service), ("$v", version));
            long id;
            Core.Gates.GateEvaluation evaluation;
            using (var reader = select.ExecuteReader())
            {
                if (!reader.Read())
                {
                    return null;
                }

                id = reader.GetInt64(0);
                evaluation = JsonSerializer.Deserialize<Core.Gates.GateEvaluation>(reader.GetString(1), json)! with { Override = decision };
            }

            using var update = Command(connection, transaction, "UPDATE gate_evaluations SET evaluation = $e WHERE id = $id",
                ("$e", JsonSerializer.Serialize(evaluation, json)), ("$id", id));
            update.ExecuteNonQuery();
            AppendAudit(connection, transaction, decision.At, who ?? new Core.Audit.AuditContext(decision.By, decision.Reason), Core.Audit.AuditEntries.GateOverridden(service, version, gate, evaluation.Reason));
            transaction.Commit();
            return evaluation;
        }
        finally
        {
            writer.Release();
        }
    }

    public async Task<IReadOnlyList<Core.Gates.GateEvaluation>> EvaluationsAsync(string? service, string? version, int limit, CancellationToken ct)
    {
        await using var connection = Connect();
        using var command = Command(connection, null, """
            SELECT evaluation FROM gate_evaluations
            WHERE ($s IS NULL OR service = $s) AND ($v IS NULL OR version = $v)
            ORDER BY id DESC LIMIT $n
            """, ("$s", (object?)service ?? DBNull.Value), ("$v", (object?)version ?? DBNull.Value), ("$n", limit));
        using var reader = command.ExecuteReader();
        var list = new List<Core.Gates.GateEvaluation>();
        while (reader.Read())
        {
            list.Add(JsonSerializer.Deserialize<Core.Gates.GateEvaluation>(reader.GetString(0), json)!);
        }

        return list;
    }

    public async Task<IReadOnlyList<StoredRelease>> ReleasesAsync(string service, CancellationToken ct)
    {
        await using var connection = Connect();
        using var command = Command(connection, null, "SELECT release, created_at FROM releases WHERE service = $s ORDER BY created_at DESC, rowid DESC", ("$s", service));
        using var reader = command.ExecuteReader();
        var list = new List<StoredRelease>();
        while (reader.Read())
        {
            list.Add(new StoredRelease(service, JsonSerializer.Deserialize<Release>(reader.GetString(0), json)!, DateTimeOffset.Parse(reader.GetString(1), CultureInfo.InvariantCulture)));
        }

        return list;
    }

    private List<RolloutState> ReadStates(SqliteCommand command)
    {
        using var reader = command.ExecuteReader();
        var list = new List<RolloutState>();
        while (reader.Read())
        {
            list.Add(Parse(reader.GetString(0)));
        }

        return list;
    }

    private RolloutState Parse(string text) => JsonSerializer.Deserialize<RolloutState>(text, json)
        ?? throw new InvalidDataException("a stored rollout is empty");

    private static string Time(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);

    private static SqliteCommand Command(SqliteConnection connection, SqliteTransaction? transaction, string sql, params (string Name, object Value)[] parameters)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        return command;
    }

    public ValueTask DisposeAsync()
    {
        writer.Dispose();
        SqliteConnection.ClearAllPools();
        return ValueTask.CompletedTask;
    }
}
