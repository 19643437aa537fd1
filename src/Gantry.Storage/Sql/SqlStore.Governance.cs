using System.Globalization;
using System.Text.Json;
using System.Data.Common;

namespace Gantry.Storage.Sql;

/// <summary>Governance: declared freezes and pre-deployment checklists (approvals and tokens are in SqliteStore.Access).</summary>
public partial class SqlStore
{
    public async Task<Core.Policies.DeclaredFreeze> DeclareFreezeAsync(Core.Policies.DeclaredFreeze freeze, CancellationToken ct, Core.Audit.AuditContext? who = null)
    {
        await writer.WaitAsync(ct);
        try
        {
            await using var connection = Connect();
            await using var transaction = await BeginWriteAsync(connection, ct);
            using var insert = Command(connection, transaction, """
                INSERT INTO declared_freezes (environment, reason, declared_by, at, until) VALUES (@e, @r, @b, @at, @until) RETURNING id
                """, ("@e", freeze.Environment), ("@r", freeze.Reason), ("@b", freeze.By), ("@at", Time(freeze.At)), ("@until", freeze.Until is { } u ? Time(u) : DBNull.Value));
            var stored = freeze with { Id = Convert.ToInt64(insert.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture) };
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
            await using var transaction = await BeginWriteAsync(connection, ct);
            var active = ReadFreezes(connection, transaction, environment).Where(f => f.IsActive(at)).ToList();
            foreach (var freeze in active)
            {
                using var lift = Command(connection, transaction, "UPDATE declared_freezes SET lifted_at = @at, lifted_by = @b WHERE id = @id", ("@at", Time(at)), ("@b", by), ("@id", freeze.Id));
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

    private static List<Core.Policies.DeclaredFreeze> ReadFreezes(DbConnection connection, DbTransaction? transaction, string? environment)
    {
        using var command = Command(connection, transaction, """
            SELECT id, environment, reason, declared_by, at, until, lifted_at, lifted_by FROM declared_freezes
            WHERE @e IS NULL OR environment = @e ORDER BY id
            """, ("@e", (object?)environment ?? DBNull.Value));
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
                INSERT INTO checklists (rollout_id, record, updated_at) VALUES (@r, @rec, @t)
                ON CONFLICT (rollout_id) DO UPDATE SET record = excluded.record, updated_at = excluded.updated_at
                """, ("@r", record.RolloutId), ("@rec", JsonSerializer.Serialize(record, json)), ("@t", Time(record.UpdatedAt)));
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
        using var command = Command(connection, null, "SELECT record FROM checklists WHERE rollout_id = @r", ("@r", rolloutId));
        return command.ExecuteScalar() is string text ? JsonSerializer.Deserialize<Core.Checklists.ChecklistRecord>(text, json) : null;
    }

    public async Task<bool> SignAsync(Core.Checklists.SignOff signOff, CancellationToken ct, Core.Audit.AuditContext? who = null)
    {
        await writer.WaitAsync(ct);
        try
        {
            await using var connection = Connect();
            await using var transaction = await BeginWriteAsync(connection, ct);
            using var insert = Command(connection, transaction, """
                INSERT INTO signoffs (rollout_id, item, signed_by, signed_at) VALUES (@r, @i, @b, @t) ON CONFLICT DO NOTHING
                """, ("@r", signOff.RolloutId), ("@i", signOff.Item), ("@b", signOff.By), ("@t", Time(signOff.At)));
            if (insert.ExecuteNonQuery() != 1)
            {
                return false;
            }

            // Known by service/environment/rollout like the rollout's own events, so gantry audit --service --env finds it.
            string target;
            using (var rollout = Command(connection, transaction, "SELECT service || '/' || environment || '/' || id FROM rollouts WHERE id = @id", ("@id", signOff.RolloutId)))
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
        using var command = Command(connection, null, "SELECT item, signed_by, signed_at FROM signoffs WHERE rollout_id = @r ORDER BY signed_at", ("@r", rolloutId));
        using var reader = command.ExecuteReader();
        var list = new List<Core.Checklists.SignOff>();
        while (reader.Read())
        {
            list.Add(new Core.Checklists.SignOff(rolloutId, reader.GetString(0), reader.GetString(1), DateTimeOffset.Parse(reader.GetString(2), CultureInfo.InvariantCulture)));
        }

        return list;
    }
}
