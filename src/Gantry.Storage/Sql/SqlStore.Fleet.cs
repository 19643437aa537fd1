using Gantry.Core.Cluster;

namespace Gantry.Storage.Sql;

/// <summary>The table the leader published for every replica's router, and each replica's report on it.</summary>
public partial class SqlStore : IFleetStore
{
    private const string TableName = "routes";

    public async Task<long?> PublishTableAsync(string routes, LeaseFence fence, DateTimeOffset now, CancellationToken ct) =>
        await WriteReturningAsync<long?>((connection, transaction) =>
        {
            using (var leads = Command(connection, transaction, "SELECT 1 WHERE 1 = 1" + FenceClause(fence), FenceParameters(fence)))
            {
                if (leads.ExecuteScalar() is null)
                {
                    return null;
                }
            }

            using (var same = Command(connection, transaction, "SELECT version FROM published_tables WHERE name = @n AND routes = @r", ("@n", TableName), ("@r", routes)))
            {
                if (same.ExecuteScalar() is { } version and not DBNull)
                {
                    return Convert.ToInt64(version, System.Globalization.CultureInfo.InvariantCulture);
                }
            }

            using var upsert = Command(connection, transaction, """
                INSERT INTO published_tables (name, version, routes, publisher, published_ms) VALUES (@n, 1, @r, @p, @t)
                ON CONFLICT (name) DO UPDATE SET version = published_tables.version + 1, routes = excluded.routes, publisher = excluded.publisher, published_ms = excluded.published_ms
                RETURNING version
                """, ("@n", TableName), ("@r", routes), ("@p", fence.Holder), ("@t", now.ToUnixTimeMilliseconds()));
            return Convert.ToInt64(upsert.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
        }, ct);

    public async Task<PublishedTable?> PublishedTableAsync(CancellationToken ct)
    {
        await using var connection = Connect();
        using var read = Command(connection, null, "SELECT version, routes, publisher, published_ms FROM published_tables WHERE name = @n", ("@n", TableName));
        using var reader = await read.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct)
            ? new PublishedTable(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(3)))
            : null;
    }

    public async Task<long> PublishedVersionAsync(CancellationToken ct)
    {
        await using var connection = Connect();
        using var read = Command(connection, null, "SELECT COALESCE(MAX(version), 0) FROM published_tables WHERE name = @n", ("@n", TableName));
        return Convert.ToInt64(await read.ExecuteScalarAsync(ct), System.Globalization.CultureInfo.InvariantCulture);
    }

    public async Task ReportReplicaAsync(ReplicaReport report, CancellationToken ct) =>
        await WriteAsync((connection, transaction) =>
        {
            using var upsert = Command(connection, transaction, """
                INSERT INTO replicas (name, seen_ms, table_version, table_error) VALUES (@n, @s, @v, @e)
                ON CONFLICT (name) DO UPDATE SET seen_ms = excluded.seen_ms, table_version = excluded.table_version, table_error = excluded.table_error
                """, ("@n", report.Name), ("@s", report.SeenAt.ToUnixTimeMilliseconds()), ("@v", report.TableVersion), ("@e", (object?)report.TableError ?? DBNull.Value));
            upsert.ExecuteNonQuery();
            return true;
        }, ct);

    public async Task<IReadOnlyList<ReplicaReport>> ReplicasAsync(CancellationToken ct)
    {
        await using var connection = Connect();
        using var read = Command(connection, null, "SELECT name, seen_ms, table_version, table_error FROM replicas ORDER BY name");
        using var reader = await read.ExecuteReaderAsync(ct);
        var replicas = new List<ReplicaReport>();
        while (await reader.ReadAsync(ct))
        {
            replicas.Add(new ReplicaReport(reader.GetString(0), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(1)), reader.GetInt64(2), reader.IsDBNull(3) ? null : reader.GetString(3)));
        }

        return replicas;
    }

    public async Task<string> ClusterIdAsync(CancellationToken ct)
    {
        await using var connection = Connect();
        using var read = Command(connection, null, "SELECT id FROM cluster");
        return (string)(await read.ExecuteScalarAsync(ct))!;
    }

    /// <summary>A serialised write that returns what it decided (committed whatever it is).</summary>
    private async Task<T> WriteReturningAsync<T>(Func<System.Data.Common.DbConnection, System.Data.Common.DbTransaction, T> body, CancellationToken ct)
    {
        await writer.WaitAsync(ct);
        try
        {
            await using var connection = Connect();
            await using var transaction = await BeginWriteAsync(connection, ct);
            var result = body(connection, transaction);
            await transaction.CommitAsync(ct);
            return result;
        }
        finally
        {
            writer.Release();
        }
    }
}
