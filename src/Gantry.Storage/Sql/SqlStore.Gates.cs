using System.Text.Json;

namespace Gantry.Storage.Sql;

/// <summary>Gate evaluations and their overrides.</summary>
public partial class SqlStore
{
    public async Task<long> SaveEvaluationAsync(Core.Gates.GateEvaluation evaluation, Core.Audit.AuditContext who, CancellationToken ct)
    {
        await writer.WaitAsync(ct);
        try
        {
            await using var connection = Connect();
            await using var transaction = await BeginWriteAsync(connection, ct);
            AppendAudit(connection, transaction, evaluation.At, who, Core.Audit.AuditEntries.GateEvaluated(evaluation));
            using var insert = Command(connection, transaction, """
                INSERT INTO gate_evaluations (gate, service, version, decision, score, evaluation, at) VALUES (@g, @s, @v, @d, @sc, @e, @t) RETURNING id
                """,
                ("@g", evaluation.Gate), ("@s", evaluation.Service), ("@v", evaluation.Version), ("@d", evaluation.Decision.ToString()),
                ("@sc", evaluation.Score), ("@e", JsonSerializer.Serialize(evaluation, json)), ("@t", Time(evaluation.At)));
            var id = Convert.ToInt64(insert.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
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
            WHERE gate = @g AND service = @s AND (@v IS NULL OR version = @v)
            ORDER BY id DESC LIMIT 1
            """, ("@g", gate), ("@s", service), ("@v", (object?)version ?? DBNull.Value));
        return command.ExecuteScalar() is string text ? JsonSerializer.Deserialize<Core.Gates.GateEvaluation>(text, json) : null;
    }

    public async Task<Core.Gates.GateEvaluation?> OverrideAsync(string gate, string service, string version, Core.Gates.GateOverride decision, CancellationToken ct, Core.Audit.AuditContext? who = null)
    {
        await writer.WaitAsync(ct);
        try
        {
            await using var connection = Connect();
            await using var transaction = await BeginWriteAsync(connection, ct);
            using var select = Command(connection, transaction, """
                SELECT id, evaluation FROM gate_evaluations WHERE gate = @g AND service = @s AND version = @v ORDER BY id DESC LIMIT 1
                """, ("@g", gate), ("@s", service), ("@v", version));
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

            using var update = Command(connection, transaction, "UPDATE gate_evaluations SET evaluation = @e WHERE id = @id",
                ("@e", JsonSerializer.Serialize(evaluation, json)), ("@id", id));
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
            WHERE (@s IS NULL OR service = @s) AND (@v IS NULL OR version = @v)
            ORDER BY id DESC LIMIT @n
            """, ("@s", (object?)service ?? DBNull.Value), ("@v", (object?)version ?? DBNull.Value), ("@n", limit));
        using var reader = command.ExecuteReader();
        var list = new List<Core.Gates.GateEvaluation>();
        while (reader.Read())
        {
            list.Add(JsonSerializer.Deserialize<Core.Gates.GateEvaluation>(reader.GetString(0), json)!);
        }

        return list;
    }
}
