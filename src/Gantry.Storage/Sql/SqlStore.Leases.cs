using Gantry.Core.Cluster;

namespace Gantry.Storage.Sql;

/// <summary>Leases: taken, renewed and given up inside the store's serialised writes, so two control planes never both hold one.</summary>
public partial class SqlStore : ILeaseStore
{
    public async Task<Lease> TryLeadAsync(string name, string holder, TimeSpan ttl, DateTimeOffset now, CancellationToken ct)
    {
        await writer.WaitAsync(ct);
        try
        {
            await using var connection = Connect();
            await using var transaction = await BeginWriteAsync(connection, ct);
            Lease? current = null;
            using (var read = Command(connection, transaction, "SELECT holder, token, expires_ms FROM leases WHERE name = @n", ("@n", name)))
            using (var reader = read.ExecuteReader())
            {
                if (reader.Read())
                {
                    current = new Lease(name, reader.GetString(0), reader.GetInt64(1), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(2)));
                }
            }

            if (current is not null && current.Holder != holder && current.ExpiresAt > now)
            {
                return current;
            }

            var lease = new Lease(name, holder, current is null ? 1 : current.Holder == holder ? current.Token : current.Token + 1, now + ttl);
            using (var write = Command(connection, transaction, current is null
                ? "INSERT INTO leases (name, holder, token, expires_ms) VALUES (@n, @h, @t, @e)"
                : "UPDATE leases SET holder = @h, token = @t, expires_ms = @e WHERE name = @n",
                ("@n", name), ("@h", holder), ("@t", lease.Token), ("@e", lease.ExpiresAt.ToUnixTimeMilliseconds())))
            {
                write.ExecuteNonQuery();
            }

            await transaction.CommitAsync(ct);
            return lease;
        }
        finally
        {
            writer.Release();
        }
    }

    public async Task ReleaseLeaseAsync(string name, string holder, CancellationToken ct)
    {
        await writer.WaitAsync(ct);
        try
        {
            await using var connection = Connect();
            await using var transaction = await BeginWriteAsync(connection, ct);
            using (var release = Command(connection, transaction, "UPDATE leases SET expires_ms = 0 WHERE name = @n AND holder = @h", ("@n", name), ("@h", holder)))
            {
                release.ExecuteNonQuery();
            }

            await transaction.CommitAsync(ct);
        }
        finally
        {
            writer.Release();
        }
    }

    /// <summary>The condition a fenced write adds: the lease still has the holder and token the writer acted on.</summary>
    private static string FenceClause(LeaseFence? fence) =>
        fence is null ? string.Empty : " AND EXISTS (SELECT 1 FROM leases WHERE name = @fence_name AND holder = @fence_holder AND token = @fence_token)";

    private static (string, object)[] FenceParameters(LeaseFence? fence) =>
        fence is null ? [] : [("@fence_name", fence.Name), ("@fence_holder", fence.Holder), ("@fence_token", fence.Token)];
}
