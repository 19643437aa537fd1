using System.Data.Common;
using System.Globalization;
using Gantry.Core.Audit;
using Gantry.Core.Traffic;

namespace Gantry.Storage.Sql;

/// <summary>Request pauses, each change audited in its transaction.</summary>
public partial class SqlStore
{
    public async Task PauseAsync(TrafficPause pause, AuditContext who, CancellationToken ct) =>
        await WriteAsync((connection, transaction) =>
        {
            using var upsert = Command(connection, transaction, """
                INSERT INTO traffic_pauses (service, environment, max_wait_ms, by_, since) VALUES (@s, @e, @w, @b, @t)
                ON CONFLICT (service, environment) DO UPDATE SET max_wait_ms = excluded.max_wait_ms, by_ = excluded.by_, since = excluded.since
                """, ("@s", pause.Service), ("@e", pause.Environment), ("@w", (long)pause.MaxWait.TotalMilliseconds), ("@b", pause.By), ("@t", Time(pause.Since)));
            upsert.ExecuteNonQuery();
            RaiseMark(connection, transaction);
            AppendAudit(connection, transaction, pause.Since, who, AuditEntries.TrafficPaused(pause));
            return true;
        }, ct);

    public async Task<TrafficPause?> ResumeAsync(string service, string environment, DateTimeOffset at, AuditContext who, CancellationToken ct)
    {
        TrafficPause? resumed = null;
        await WriteAsync((connection, transaction) =>
        {
            resumed = ReadPauses(connection, transaction).FirstOrDefault(p => p.Service == service && p.Environment == environment);
            if (resumed is null)
            {
                return false;
            }

            using var delete = Command(connection, transaction, "DELETE FROM traffic_pauses WHERE service = @s AND environment = @e", ("@s", service), ("@e", environment));
            delete.ExecuteNonQuery();
            RaiseMark(connection, transaction);
            AppendAudit(connection, transaction, at, who, AuditEntries.TrafficResumed(resumed));
            return true;
        }, ct);
        return resumed;
    }

    public async Task<IReadOnlyList<TrafficPause>> PausesAsync(CancellationToken ct)
    {
        await using var connection = Connect();
        return ReadPauses(connection, null);
    }

    private static List<TrafficPause> ReadPauses(DbConnection connection, DbTransaction? transaction)
    {
        using var command = Command(connection, transaction, "SELECT service, environment, max_wait_ms, by_, since FROM traffic_pauses ORDER BY service, environment");
        using var reader = command.ExecuteReader();
        var list = new List<TrafficPause>();
        while (reader.Read())
        {
            list.Add(new TrafficPause(reader.GetString(0), reader.GetString(1), TimeSpan.FromMilliseconds(reader.GetInt64(2)), reader.GetString(3), DateTimeOffset.Parse(reader.GetString(4), CultureInfo.InvariantCulture)));
        }

        return list;
    }
}
