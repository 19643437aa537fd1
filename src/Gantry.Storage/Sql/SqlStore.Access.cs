using System.Globalization;
using System.Text.Json;
using Gantry.Core;
using Gantry.Core.Access;
using Gantry.Core.Approvals;
using Gantry.Core.Audit;
using Gantry.Core.Rollouts;
using System.Data.Common;

namespace Gantry.Storage.Sql;

/// <summary>Tokens and approvals: each change committed with its audit event.</summary>
public partial class SqlStore
{
    public async Task CreateTokenAsync(ApiToken token, AuditContext who, CancellationToken ct)
    {
        await WriteAsync((connection, transaction) =>
        {
            using var insert = Command(connection, transaction, """
                INSERT INTO tokens (id, identity, roles, groups_, environments, hash, created_at, created_by, expires_at)
                VALUES (@id, @identity, @roles, @groups, @envs, @hash, @at, @by, @expires)
                """,
                ("@id", token.Id), ("@identity", token.Identity), ("@roles", Json(token.Roles)), ("@groups", Json(token.Groups)), ("@envs", Json(token.Environments)),
                ("@hash", token.Hash), ("@at", Time(token.CreatedAt)), ("@by", token.CreatedBy), ("@expires", token.ExpiresAt is { } e ? Time(e) : DBNull.Value));
            insert.ExecuteNonQuery();
            AppendAudit(connection, transaction, token.CreatedAt, who, AuditEntries.TokenCreated(token));
            return true;
        }, ct);
    }

    public async Task<ApiToken?> TokenAsync(string id, CancellationToken ct)
    {
        await using var connection = Connect();
        return ReadTokens(connection, "WHERE id = @id", ("@id", id)).FirstOrDefault();
    }

    public async Task<IReadOnlyList<ApiToken>> TokensAsync(CancellationToken ct)
    {
        await using var connection = Connect();
        return ReadTokens(connection, "ORDER BY created_at, id");
    }

    public async Task<ApiToken?> RevokeTokenAsync(string id, DateTimeOffset at, AuditContext who, CancellationToken ct)
    {
        var revoked = false;
        await WriteAsync((connection, transaction) =>
        {
            using var update = Command(connection, transaction, "UPDATE tokens SET revoked_at = @at, revoked_by = @by WHERE id = @id AND revoked_at IS NULL",
                ("@at", Time(at)), ("@by", who.Actor), ("@id", id));
            revoked = update.ExecuteNonQuery() == 1;
            if (revoked)
            {
                AppendAudit(connection, transaction, at, who, AuditEntries.TokenRevoked(id));
            }

            return revoked;
        }, ct);
        return await TokenAsync(id, ct);
    }

    /// <summary>Marks a token used (the caller throttles this); not audited.</summary>
    public async Task TouchTokenAsync(string id, DateTimeOffset at, CancellationToken ct)
    {
        await WriteAsync((connection, transaction) =>
        {
            using var update = Command(connection, transaction, "UPDATE tokens SET last_used_at = @at WHERE id = @id", ("@at", Time(at)), ("@id", id));
            return update.ExecuteNonQuery() == 1;
        }, ct);
    }

    public async Task AuditAsync(DateTimeOffset at, AuditContext who, string action, string target, string detail, CancellationToken ct)
    {
        await WriteAsync((connection, transaction) =>
        {
            AppendAudit(connection, transaction, at, who, new AuditEntry(action, target, detail));
            return true;
        }, ct);
    }

    public async Task RecordApprovalAsync(ApprovalRecord approval, AuditContext who, CancellationToken ct)
    {
        await WriteAsync((connection, transaction) =>
        {
            using var insert = Command(connection, transaction, """
                INSERT INTO approvals (rollout_id, by_, groups_, decision, comment, at, source) VALUES (@r, @by, @groups, @d, @c, @at, @source)
                """,
                ("@r", approval.RolloutId), ("@by", approval.By), ("@groups", Json(approval.Groups)), ("@d", approval.Decision.ToString()),
                ("@c", (object?)approval.Comment ?? DBNull.Value), ("@at", Time(approval.At)), ("@source", (object?)approval.Source ?? DBNull.Value));
            insert.ExecuteNonQuery();
            string target;
            using (var rollout = Command(connection, transaction, "SELECT service || '/' || environment || '/' || id FROM rollouts WHERE id = @id", ("@id", approval.RolloutId)))
            {
                target = rollout.ExecuteScalar() as string ?? approval.RolloutId;
            }

            AppendAudit(connection, transaction, approval.At, who, AuditEntries.Approval(approval, target), ApprovalChain(connection, transaction, approval.RolloutId));
            return true;
        }, ct);
    }

    public async Task<IReadOnlyList<ApprovalRecord>> ApprovalsAsync(string rolloutId, CancellationToken ct)
    {
        await using var connection = Connect();
        return ReadApprovals(connection, null, rolloutId);
    }

    private static List<ApprovalRecord> ReadApprovals(DbConnection connection, DbTransaction? transaction, string rolloutId)
    {
        using var command = Command(connection, transaction, "SELECT by_, groups_, decision, comment, at, source FROM approvals WHERE rollout_id = @r ORDER BY id", ("@r", rolloutId));
        using var reader = command.ExecuteReader();
        var list = new List<ApprovalRecord>();
        while (reader.Read())
        {
            list.Add(new ApprovalRecord(
                rolloutId, reader.GetString(0), JsonSerializer.Deserialize<ValueList<string>>(reader.GetString(1), GantryJson.Options), Enum.Parse<ApprovalDecision>(reader.GetString(2)),
                reader.IsDBNull(3) ? null : reader.GetString(3), DateTimeOffset.Parse(reader.GetString(4), CultureInfo.InvariantCulture), reader.IsDBNull(5) ? null : reader.GetString(5)));
        }

        return list;
    }

    private static List<ApiToken> ReadTokens(DbConnection connection, string where, params (string, object)[] parameters)
    {
        using var command = Command(connection, null, $"SELECT id, identity, roles, groups_, environments, hash, created_at, created_by, expires_at, revoked_at, revoked_by, last_used_at FROM tokens {where}", parameters);
        using var reader = command.ExecuteReader();
        var list = new List<ApiToken>();
        while (reader.Read())
        {
            list.Add(new ApiToken(
                reader.GetString(0), reader.GetString(1),
                JsonSerializer.Deserialize<ValueList<Role>>(reader.GetString(2), GantryJson.Options),
                JsonSerializer.Deserialize<ValueList<string>>(reader.GetString(3), GantryJson.Options),
                JsonSerializer.Deserialize<ValueList<string>>(reader.GetString(4), GantryJson.Options),
                reader.GetString(5), DateTimeOffset.Parse(reader.GetString(6), CultureInfo.InvariantCulture), reader.GetString(7),
                ParseTime(reader, 8), ParseTime(reader, 9), reader.IsDBNull(10) ? null : reader.GetString(10), ParseTime(reader, 11)));
        }

        return list;
    }

    private static DateTimeOffset? ParseTime(DbDataReader reader, int column) =>
        reader.IsDBNull(column) ? null : DateTimeOffset.Parse(reader.GetString(column), CultureInfo.InvariantCulture);

    private static string Json<T>(T value) => JsonSerializer.Serialize(value, GantryJson.Options);

    /// <summary>One write transaction under the writer lock; committed when <paramref name="body"/> returns true.</summary>
    private async Task WriteAsync(Func<DbConnection, DbTransaction, bool> body, CancellationToken ct)
    {
        await writer.WaitAsync(ct);
        try
        {
            await using var connection = Connect();
            await using var transaction = await BeginWriteAsync(connection, ct);
            if (body(connection, transaction))
            {
                await transaction.CommitAsync(ct);
            }
        }
        finally
        {
            writer.Release();
        }
    }
}
