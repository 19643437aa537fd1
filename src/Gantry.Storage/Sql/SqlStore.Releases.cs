using System.Globalization;
using System.Text.Json;
using Gantry.Core.Rollouts;

namespace Gantry.Storage.Sql;

/// <summary>Releases and the deploy queue.</summary>
public partial class SqlStore
{
    public async Task<QueuedDeploy> EnqueueAsync(QueuedDeploy deploy, CancellationToken ct)
    {
        await writer.WaitAsync(ct);
        try
        {
            await using var connection = Connect();
            await using var transaction = await BeginWriteAsync(connection, ct);
            using var insert = Command(connection, transaction, "INSERT INTO queue (service, environment, release, created_by, created_at) VALUES (@s, @e, @r, @b, @c) RETURNING id",
                ("@s", deploy.Service), ("@e", deploy.Environment), ("@r", JsonSerializer.Serialize(deploy.Release, json)), ("@b", deploy.CreatedBy), ("@c", Time(deploy.CreatedAt)));
            var queued = deploy with { Id = Convert.ToInt64(insert.ExecuteScalar(), CultureInfo.InvariantCulture) };

            // The leader's next pass sees the mark move, and its queue starter looks at once, whichever replica queued it.
            RaiseMark(connection, transaction);
            await transaction.CommitAsync(ct);
            return queued;
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
            await using var transaction = await BeginWriteAsync(connection, ct);
            using var delete = Command(connection, transaction, "DELETE FROM queue WHERE id = @id RETURNING service, environment, release", ("@id", id));
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
            WHERE (@s IS NULL OR service = @s) AND (@e IS NULL OR environment = @e) ORDER BY id
            """, ("@s", (object?)service ?? DBNull.Value), ("@e", (object?)environment ?? DBNull.Value));
        using var reader = command.ExecuteReader();
        var list = new List<QueuedDeploy>();
        while (reader.Read())
        {
            list.Add(new QueuedDeploy(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), JsonSerializer.Deserialize<Release>(reader.GetString(3), json)!,
                reader.GetString(4), DateTimeOffset.Parse(reader.GetString(5), CultureInfo.InvariantCulture)));
        }

        return list;
    }

    public async Task<IReadOnlyList<StoredRelease>> ReleasesAsync(string service, CancellationToken ct)
    {
        await using var connection = Connect();
        using var command = Command(connection, null, "SELECT release, created_at FROM releases WHERE service = @s ORDER BY created_at DESC, rowid DESC", ("@s", service));
        using var reader = command.ExecuteReader();
        var list = new List<StoredRelease>();
        while (reader.Read())
        {
            list.Add(new StoredRelease(service, JsonSerializer.Deserialize<Release>(reader.GetString(0), json)!, DateTimeOffset.Parse(reader.GetString(1), CultureInfo.InvariantCulture)));
        }

        return list;
    }
}
