using System.Globalization;
using System.Text.Json;
using Gantry.Core.Rollouts;
using Gantry.Core.Strategies;
using System.Data.Common;

namespace Gantry.Storage.Sql;

/// <summary>The event log, the followers' cursors and the observed instances.</summary>
public partial class SqlStore
{
    /// <summary>A commit's events, each with what the commit was (who, the phase left, the release's share and its largest share so far).</summary>
    private static void AppendEvents(DbConnection connection, DbTransaction transaction, RolloutState rollout, IReadOnlyList<RolloutEvent> events, string? actor)
    {
        if (events.Count == 0)
        {
            return;
        }

        using var max = Command(connection, transaction, "SELECT COALESCE(MAX(seq), 0), COALESCE(MAX(peak), 0) FROM events WHERE rollout_id = @id", ("@id", rollout.Id));
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
            VALUES (@id, @seq, @r, @t, @type, @m, @actor, @phase, @share, @peak)
            """);
        foreach (var e in events)
        {
            insert.Parameters.Clear();
            Bind(insert,
                ("@id", rollout.Id), ("@seq", ++seq), ("@r", rollout.Revision), ("@t", Time(rollout.UpdatedAt)), ("@type", e.Type.ToString()), ("@m", e.Message),
                ("@actor", (object?)actor ?? DBNull.Value), ("@phase", rollout.Phase.ToString()), ("@share", share), ("@peak", peak));
            insert.ExecuteNonQuery();
        }
    }

    public async Task<IReadOnlyList<StoredEvent>> EventsAsync(long afterId, string? rolloutId, int limit, CancellationToken ct)
    {
        await using var connection = Connect();
        using var command = Command(connection, null, """
            SELECT e.id, e.rollout_id, e.seq, e.revision, e.time, r.service, r.environment, e.type, e.message
            FROM events e JOIN rollouts r ON r.id = e.rollout_id
            WHERE e.id > @after AND (@r IS NULL OR e.rollout_id = @r)
            ORDER BY e.id LIMIT @limit
            """, ("@after", afterId), ("@r", (object?)rolloutId ?? DBNull.Value), ("@limit", limit));
        using var reader = command.ExecuteReader();
        var list = new List<StoredEvent>();
        while (reader.Read())
        {
            list.Add(new StoredEvent(reader.GetInt64(0), reader.GetString(1), reader.GetInt32(2), reader.GetInt64(3),
                DateTimeOffset.Parse(reader.GetString(4), CultureInfo.InvariantCulture), reader.GetString(5), reader.GetString(6), reader.GetString(7), reader.GetString(8)));
        }

        return list;
    }

    public async Task<long> LastEventIdAsync(CancellationToken ct)
    {
        await using var connection = Connect();
        using var command = Command(connection, null, "SELECT COALESCE(MAX(id), 0) FROM events");
        return Convert.ToInt64(await command.ExecuteScalarAsync(ct), CultureInfo.InvariantCulture);
    }

    public async Task<IReadOnlyList<CommittedEvent>> CommittedEventsAsync(long afterId, int limit, CancellationToken ct)
    {
        await using var connection = Connect();
        using var command = Command(connection, null, """
            SELECT e.id, e.rollout_id, e.seq, e.revision, e.time, r.service, r.environment, e.type, e.message, e.actor, e.phase, e.share, e.peak
            FROM events e JOIN rollouts r ON r.id = e.rollout_id
            WHERE e.id > @after AND e.phase IS NOT NULL
            ORDER BY e.id LIMIT @limit
            """, ("@after", afterId), ("@limit", limit));
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
        using var command = Command(connection, null, "SELECT position FROM cursors WHERE name = @n", ("@n", name));
        return command.ExecuteScalar() is long position ? position : 0;
    }

    public async Task MoveCursorAsync(string name, long position, CancellationToken ct)
    {
        await WriteAsync((connection, transaction) =>
        {
            using var upsert = Command(connection, transaction, "INSERT INTO cursors (name, position) VALUES (@n, @p) ON CONFLICT (name) DO UPDATE SET position = CASE WHEN excluded.position > cursors.position THEN excluded.position ELSE cursors.position END", ("@n", name), ("@p", position));
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
            await using var transaction = await BeginWriteAsync(connection, ct);
            using (var delete = Command(connection, transaction, "DELETE FROM instances WHERE service = @s AND environment = @e", ("@s", service), ("@e", environment)))
            {
                delete.ExecuteNonQuery();
            }

            foreach (var i in instances)
            {
                using var insert = Command(connection, transaction, "INSERT INTO instances (id, service, environment, version, record, updated_at) VALUES (@id, @s, @e, @v, @r, @t)",
                    ("@id", i.Id), ("@s", service), ("@e", environment), ("@v", i.Version), ("@r", JsonSerializer.Serialize(i, json)), ("@t", Time(i.ObservedAt)));
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
            SELECT record FROM instances WHERE (@s IS NULL OR service = @s) AND (@e IS NULL OR environment = @e) ORDER BY service, environment, id
            """, ("@s", (object?)service ?? DBNull.Value), ("@e", (object?)environment ?? DBNull.Value));
        using var reader = command.ExecuteReader();
        var list = new List<InstanceRecord>();
        while (reader.Read())
        {
            list.Add(JsonSerializer.Deserialize<InstanceRecord>(reader.GetString(0), json)!);
        }

        return list;
    }
}
