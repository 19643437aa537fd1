using System.Data;
using System.Data.Common;
using System.Globalization;
using Gantry.Core.Audit;
using Gantry.Storage.Sql;

namespace Gantry.Storage.Transfer;

/// <summary>What a copy moved: rows per table, and the destination's audit chain checked afterwards.</summary>
public sealed record StoreCopyResult(IReadOnlyList<(string Table, long Rows)> Tables, AuditVerification Audit)
{
    public long Rows => Tables.Sum(t => t.Rows);
}

/// <summary>A copy that cannot be made: <see cref="Exception.Message"/> says why in one line; the destination is unchanged.</summary>
public sealed class StoreCopyRefusedException(string message) : InvalidOperationException(message);

/// <summary>
/// Copies a whole store into an empty one of any kind, row for row with the same ids: SQLite to PostgreSQL
/// (<c>gantry store migrate</c>), PostgreSQL to a SQLite file (a backup of a PostgreSQL store, which
/// <c>gantry backup verify</c> then checks like any other) and back (a restore). The source is read in one
/// snapshot while others keep writing; the destination is written in one transaction, all or nothing.
/// </summary>
public static class StoreCopy
{
    /// <summary>
    /// Every table of the schema, parents before children, with every column; <c>Identity</c> names a column whose
    /// values a database generates (its sequence is moved past the copied values). <c>rowid</c> is SQLite's implicit
    /// order of insertion, a column of its own in PostgreSQL.
    /// </summary>
    /// <summary>Tables of the running control planes, not of the history: not copied (leases, the published router table, replicas' reports, the store's own name, the change mark).</summary>
    public static IReadOnlyList<string> NotCopied { get; } = ["leases", "published_tables", "replicas", "cluster", "change_mark"];

    public static IReadOnlyList<(string Table, string[] Columns, string? Identity)> Tables { get; } =
    [
        ("rollouts", ["id", "service", "environment", "seq", "version", "kind", "phase", "active", "revision", "created_at", "updated_at", "state", "created_ms", "finished_ms", "commit_ms", "incident", "outcome", "lead_ms"], null),
        ("events", ["id", "rollout_id", "seq", "revision", "time", "type", "message", "actor", "phase", "share", "peak"], "id"),
        ("releases", ["rowid", "service", "version", "release", "created_at"], "rowid"),
        ("queue", ["id", "service", "environment", "release", "created_by", "created_at"], "id"),
        ("instances", ["id", "service", "environment", "version", "record", "updated_at"], null),
        ("analysis_runs", ["rowid", "key", "rollout_id", "record", "updated_at"], "rowid"),
        ("gate_evaluations", ["id", "gate", "service", "version", "decision", "score", "evaluation", "at"], "id"),
        ("checklists", ["rollout_id", "record", "updated_at"], null),
        ("signoffs", ["rollout_id", "item", "signed_by", "signed_at"], null),
        ("audit", ["seq", "at", "actor", "action", "target", "detail", "reason", "source", "prev_hash", "hash", "approvals"], null),
        ("audit_head", ["id", "seq", "hash"], null),
        ("declared_freezes", ["id", "environment", "reason", "declared_by", "at", "until", "lifted_at", "lifted_by"], "id"),
        ("tokens", ["id", "identity", "roles", "groups_", "environments", "hash", "created_at", "created_by", "expires_at", "revoked_at", "revoked_by", "last_used_at"], null),
        ("approvals", ["id", "rollout_id", "by_", "groups_", "decision", "comment", "at", "source"], "id"),
        ("incidents", ["id", "service", "environment", "rollout_id", "status", "opened_ms", "resolved_ms", "revision", "record"], "id"),
        ("incident_timeline", ["id", "incident_id", "at", "kind", "by_", "text", "rollout_id"], "id"),
        ("deliveries", ["id", "receiver", "event", "payload", "status", "attempts", "next_ms", "last_error", "created_at", "done_at", "key"], "id"),
        ("cursors", ["name", "position"], null),
        ("maintenance", ["service", "environment", "message", "by_", "since"], null),
        ("traffic_pauses", ["service", "environment", "max_wait_ms", "by_", "since"], null),
    ];

    /// <summary>
    /// Copies <paramref name="from"/> into <paramref name="to"/>, which must be empty (no rollout, audit event or
    /// token) and at the same schema version; then verifies the destination's audit chain.
    /// </summary>
    public static async Task<StoreCopyResult> CopyAsync(SqlStore from, SqlStore to, CancellationToken ct)
    {
        await using var source = from.Connect();
        await using var destination = to.Connect();
        var (fromVersion, toVersion) = (Migrations.Migrator.Current(source), Migrations.Migrator.Current(destination));
        if (fromVersion != toVersion)
        {
            throw new StoreCopyRefusedException($"{from.Describe} is at schema version {fromVersion} and {to.Describe} at {toVersion}: open both with this Gantry first");
        }

        await using var snapshot = await source.BeginTransactionAsync(IsolationLevel.RepeatableRead, ct);
        await using var write = await to.BeginWriteAsync(destination, ct);
        var held = await CountAsync(destination, write, ["rollouts", "audit", "tokens"], ct);
        if (held.Any(t => t.Rows > 0))
        {
            throw new StoreCopyRefusedException($"{to.Describe} is not empty ({held[0].Rows} rollouts, {held[1].Rows} audit events, {held[2].Rows} tokens): copy into a new, empty store");
        }

        await ExecuteAsync(destination, write, "DELETE FROM cursors", ct);
        var copied = new List<(string, long)>();
        foreach (var (table, columns, identity) in Tables)
        {
            copied.Add((table, await CopyTableAsync(source, snapshot, destination, write, table, columns, ct)));
            if (identity is not null)
            {
                await to.AfterExplicitIdsAsync(destination, write, table, identity, ct);
            }
        }

        await write.CommitAsync(ct);
        return new StoreCopyResult(copied, await to.VerifyAuditAsync(ct));
    }

    /// <summary>Rows per INSERT statement: a few hundred at a time instead of one round trip per row (within both databases' parameter limits).</summary>
    private const int ParametersPerStatement = 8_000;

    private static async Task<long> CopyTableAsync(DbConnection source, DbTransaction snapshot, DbConnection destination, DbTransaction write, string table, string[] columns, CancellationToken ct)
    {
        var list = string.Join(", ", columns);
        await using var read = source.CreateCommand();
        read.Transaction = snapshot;
        read.CommandText = $"SELECT {list} FROM {table} ORDER BY {columns[0]}";
        var batch = Math.Max(1, ParametersPerStatement / columns.Length);
        var pending = new List<object[]>(batch);
        DbCommand? full = null;
        long rows = 0;
        try
        {
            await using var reader = await read.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                var values = new object[columns.Length];
                reader.GetValues(values);
                pending.Add(values);
                if (pending.Count == batch)
                {
                    full ??= Insert(destination, write, table, list, columns.Length, batch);
                    await WriteAsync(full, pending, ct);
                    rows += pending.Count;
                    pending.Clear();
                }
            }

            if (pending.Count > 0)
            {
                await using var rest = Insert(destination, write, table, list, columns.Length, pending.Count);
                await WriteAsync(rest, pending, ct);
                rows += pending.Count;
            }
        }
        finally
        {
            if (full is not null)
            {
                await full.DisposeAsync();
            }
        }

        return rows;
    }

    /// <summary>An INSERT of <paramref name="count"/> rows, its parameters untyped: the destination's columns say what a value (or a null) is.</summary>
    private static DbCommand Insert(DbConnection destination, DbTransaction write, string table, string list, int width, int count)
    {
        var insert = destination.CreateCommand();
        insert.Transaction = write;
        var rows = Enumerable.Range(0, count).Select(r => "(" + string.Join(", ", Enumerable.Range(0, width).Select(c => "@p" + (r * width + c).ToString(CultureInfo.InvariantCulture))) + ")");
        insert.CommandText = $"INSERT INTO {table} ({list}) VALUES {string.Join(", ", rows)}";
        for (var i = 0; i < count * width; i++)
        {
            var parameter = insert.CreateParameter();
            parameter.ParameterName = "@p" + i.ToString(CultureInfo.InvariantCulture);
            insert.Parameters.Add(parameter);
        }

        return insert;
    }

    private static async Task WriteAsync(DbCommand insert, List<object[]> rows, CancellationToken ct)
    {
        var i = 0;
        foreach (var row in rows)
        {
            foreach (var value in row)
            {
                insert.Parameters[i++].Value = value;
            }
        }

        await insert.ExecuteNonQueryAsync(ct);
    }

    private static async Task<List<(string Table, long Rows)>> CountAsync(DbConnection connection, DbTransaction? transaction, string[] tables, CancellationToken ct)
    {
        var counts = new List<(string, long)>();
        foreach (var table in tables)
        {
            await using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = $"SELECT COUNT(*) FROM {table}";
            counts.Add((table, Convert.ToInt64(await command.ExecuteScalarAsync(ct), CultureInfo.InvariantCulture)));
        }

        return counts;
    }

    private static async Task ExecuteAsync(DbConnection connection, DbTransaction transaction, string sql, CancellationToken ct)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(ct);
    }
}
