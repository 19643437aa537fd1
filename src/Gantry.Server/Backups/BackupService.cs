using Gantry.Core.Audit;
using Gantry.Storage.Backups;
using Gantry.Storage.Sql;

namespace Gantry.Server.Backups;

/// <summary>Writes backups of the running server's store, each recorded in its audit trail.</summary>
public sealed class BackupService(SqlStore store, IAuditStore audit, TimeProvider time)
{
    /// <summary>A consistent copy of the store at <paramref name="file"/> (its owner's only), audited as <paramref name="who"/>'s with <paramref name="what"/> it is for; returns its size.</summary>
    public async Task<long> WriteAsync(string file, string what, AuditContext who, CancellationToken ct)
    {
        await StoreBackup.CreateAsync(store, file, time, ct);
        var bytes = new FileInfo(file).Length;
        await audit.RecordAsync(AuditEntries.StoreBackedUp(what, bytes), time.GetUtcNow(), who, ct);
        return bytes;
    }
}
