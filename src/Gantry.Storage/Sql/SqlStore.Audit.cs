using System.Globalization;
using Gantry.Core.Rollouts;
using Gantry.Core.Strategies;
using System.Data.Common;
using Gantry.Core.Audit;

namespace Gantry.Storage.Sql;

/// <summary>The audit trail: appended in the transaction of each change, hash-chained, read back.</summary>
public partial class SqlStore
{
    public async Task RecordAsync(Core.Audit.AuditEntry entry, DateTimeOffset at, Core.Audit.AuditContext who, CancellationToken ct) =>
        await WriteAsync((connection, transaction) =>
        {
            AppendAudit(connection, transaction, at, who, entry);
            return true;
        }, ct);

    /// <summary>Each event of a rollout, in the audit trail, in the transaction that commits it.</summary>
    private static void AuditEvents(DbConnection connection, DbTransaction transaction, RolloutState rollout, IReadOnlyList<RolloutEvent> events, Core.Audit.AuditContext who)
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
    private static string? ApprovalChain(DbConnection connection, DbTransaction? transaction, string rolloutId)
    {
        var approvals = ReadApprovals(connection, transaction, rolloutId).Where(a => a.Decision == Core.Approvals.ApprovalDecision.Approved).ToList();
        return approvals.Count == 0 ? null : string.Join("; ", approvals.Select(a => a.Describe()));
    }

    /// <summary>Appends one event to the audit trail, chained to the recorded head, and moves the head to it.</summary>
    private static void AppendAudit(DbConnection connection, DbTransaction? transaction, DateTimeOffset at, Core.Audit.AuditContext who, Core.Audit.AuditEntry entry, string? approvals = null)
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
            INSERT INTO audit (seq, at, actor, action, target, detail, reason, source, prev_hash, hash, approvals) VALUES (@seq, @at, @actor, @action, @target, @detail, @reason, @source, @prev, @hash, @approvals);
            INSERT INTO audit_head (id, seq, hash) VALUES (1, @seq, @hash) ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash;
            """,
            ("@seq", seq), ("@at", Time(at)), ("@actor", who.Actor), ("@action", action), ("@target", target), ("@detail", detail),
            ("@reason", (object?)who.Reason ?? DBNull.Value), ("@source", (object?)who.Source ?? DBNull.Value), ("@prev", previous), ("@hash", hash), ("@approvals", (object?)approvals ?? DBNull.Value));
        insert.ExecuteNonQuery();
    }

    public async Task<IReadOnlyList<Core.Audit.AuditEvent>> AuditAsync(Core.Audit.AuditQuery query, CancellationToken ct)
    {
        await using var connection = Connect();
        using var command = Command(connection, null, """
            SELECT seq, at, actor, action, target, detail, reason, source, prev_hash, hash, approvals FROM audit
            WHERE (@target IS NULL OR target = @target OR substr(target, 1, length(@prefix)) = @prefix) AND (@since IS NULL OR at >= @since)
            ORDER BY seq DESC LIMIT @limit
            """,
            ("@target", (object?)query.Target ?? DBNull.Value), ("@prefix", query.Target is null ? DBNull.Value : query.Target + "/"),
            ("@since", query.Since is { } since ? Time(since) : DBNull.Value), ("@limit", query.Limit));
        var list = new List<Core.Audit.AuditEvent>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            list.Add(ReadAudit(reader));
        }

        list.Reverse();
        return list;
    }

    public async IAsyncEnumerable<AuditEvent> AllAuditAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        await using var connection = Connect();
        foreach (var e in ReadAudit(connection, null, ct))
        {
            yield return e;
        }
    }

    public async Task<AuditVerification> VerifyAuditAsync(CancellationToken ct)
    {
        await using var connection = Connect();
        await using var snapshot = await BeginSnapshotAsync(connection, ct);
        string? head;
        using (var command = Command(connection, snapshot, "SELECT hash FROM audit_head WHERE id = 1"))
        {
            head = command.ExecuteScalar() as string;
        }

        return await AuditChain.VerifyAsync(ReadAudit(connection, snapshot, ct).ToAsyncEnumerable(), head, ct);
    }

    /// <summary>Every event by sequence number, read row by row without a task each (verifying 100,000 events is a measured path: bench/README, "Audit verification").</summary>
    private static IEnumerable<AuditEvent> ReadAudit(DbConnection connection, DbTransaction? transaction, CancellationToken ct)
    {
        using var command = Command(connection, transaction, "SELECT seq, at, actor, action, target, detail, reason, source, prev_hash, hash, approvals FROM audit ORDER BY seq");
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            ct.ThrowIfCancellationRequested();
            yield return ReadAudit(reader);
        }
    }

    private static Core.Audit.AuditEvent ReadAudit(DbDataReader r) => new(
        r.GetInt64(0), DateTimeOffset.Parse(r.GetString(1), CultureInfo.InvariantCulture), r.GetString(2), r.GetString(3), r.GetString(4), r.GetString(5),
        r.IsDBNull(6) ? null : r.GetString(6), r.IsDBNull(7) ? null : r.GetString(7), r.GetString(8), r.GetString(9), r.IsDBNull(10) ? null : r.GetString(10));
}
