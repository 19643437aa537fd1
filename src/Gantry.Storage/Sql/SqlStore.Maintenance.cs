using System.Data.Common;
using System.Globalization;
using Gantry.Core.Audit;
using Gantry.Core.Traffic;

namespace Gantry.Storage.Sql;

/// <summary>Maintenance switches, each change audited in its transaction.</summary>
public partial class SqlStore : IMaintenanceStore
{
    public async Task SetMaintenanceAsync(Maintenance maintenance, AuditContext who, CancellationToken ct) =>
        await WriteAsync((connection, transaction) =>
        {
            using var upsert = Command(connection, transaction, """
                INSERT INTO maintenance (service, environment, message, by_, since) VALUES (@s, @e, @m, @b, @t)
                ON CONFLICT (service, environment) DO UPDATE SET message = excluded.message, by_ = excluded.by_, since = excluded.since
                """, ("@s", maintenance.Service), ("@e", maintenance.Environment), ("@m", maintenance.Message), ("@b", maintenance.By), ("@t", Time(maintenance.Since)));
            upsert.ExecuteNonQuery();
            RaiseMark(connection, transaction);
            AppendAudit(connection, transaction, maintenance.Since, who, AuditEntries.MaintenanceOn(maintenance));
            return true;
        }, ct);

    public async Task<Maintenance?> ClearMaintenanceAsync(string service, string environment, DateTimeOffset at, AuditContext who, CancellationToken ct)
    {
        Maintenance? cleared = null;
        await WriteAsync((connection, transaction) =>
        {
            cleared = ReadMaintenance(connection, transaction).FirstOrDefault(m => m.Service == service && m.Environment == environment);
            if (cleared is null)
            {
                return false;
            }

            using var delete = Command(connection, transaction, "DELETE FROM maintenance WHERE service = @s AND environment = @e", ("@s", service), ("@e", environment));
            delete.ExecuteNonQuery();
            RaiseMark(connection, transaction);
            AppendAudit(connection, transaction, at, who, AuditEntries.MaintenanceOff(cleared));
            return true;
        }, ct);
        return cleared;
    }

    public async Task<IReadOnlyList<Maintenance>> MaintenanceAsync(CancellationToken ct)
    {
        await using var connection = Connect();
        return ReadMaintenance(connection, null);
    }

    private static List<Maintenance> ReadMaintenance(DbConnection connection, DbTransaction? transaction)
    {
        using var command = Command(connection, transaction, "SELECT service, environment, message, by_, since FROM maintenance ORDER BY service, environment");
        using var reader = command.ExecuteReader();
        var list = new List<Maintenance>();
        while (reader.Read())
        {
            list.Add(new Maintenance(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), DateTimeOffset.Parse(reader.GetString(4), CultureInfo.InvariantCulture)));
        }

        return list;
    }
}
