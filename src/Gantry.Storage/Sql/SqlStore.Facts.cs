using System.Globalization;

namespace Gantry.Storage.Sql;

/// <summary>What a store holds, counted (for a backup's summary) and whether it is empty (for a restore).</summary>
public partial class SqlStore
{
    /// <summary>Counts of the store's records and the time span of its rollouts.</summary>
    public StoreFacts Facts()
    {
        using var connection = Connect();
        long Count(string table)
        {
            using var command = Command(connection, null, $"SELECT COUNT(*) FROM {table}");
            return Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture);
        }

        using var span = Command(connection, null, "SELECT MIN(created_at), MAX(created_at) FROM rollouts");
        using var reader = span.ExecuteReader();
        reader.Read();
        DateTimeOffset? At(int column) => reader.IsDBNull(column) ? null : DateTimeOffset.Parse(reader.GetString(column), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
        return new StoreFacts(Count("rollouts"), Count("releases"), Count("incidents"), Count("audit"), At(0), At(1));
    }
}

/// <summary>How many rollouts, releases, incidents and audit events a store holds, and when its first and last rollouts began.</summary>
public sealed record StoreFacts(long Rollouts, long Releases, long Incidents, long AuditEvents, DateTimeOffset? Oldest, DateTimeOffset? Newest);
