using System.Collections.Concurrent;
using System.Net;
using System.Threading.RateLimiting;
using Gantry.Proxy.Routing;

namespace Gantry.Proxy.RateLimiting;

/// <summary>
/// Per-route token buckets, one per client address (System.Threading.RateLimiting's partitioned limiter, which
/// also forgets idle clients). A route keeps its buckets across routing-table swaps while its limit is the same.
/// </summary>
public sealed class ClientRateLimits : IDisposable
{
    private readonly ConcurrentDictionary<string, (RateLimitSpec Spec, PartitionedRateLimiter<IPAddress> Limiter)> routes = new(StringComparer.Ordinal);

    /// <summary>The limiter of a route with a limit (made, or replaced when its limit changed); null without one.</summary>
    public PartitionedRateLimiter<IPAddress>? For(RouteSpec route)
    {
        if (route.RateLimit is not { } spec)
        {
            if (routes.TryRemove(route.Name, out var gone))
            {
                gone.Limiter.Dispose();
            }

            return null;
        }

        var entry = routes.AddOrUpdate(route.Name, _ => (spec, Create(spec)), (_, old) =>
        {
            if (old.Spec == spec)
            {
                return old;
            }

            old.Limiter.Dispose();
            return (spec, Create(spec));
        });
        return entry.Limiter;
    }

    private static PartitionedRateLimiter<IPAddress> Create(RateLimitSpec spec) =>
        PartitionedRateLimiter.Create<IPAddress, IPAddress>(address => RateLimitPartition.GetTokenBucketLimiter(address, _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = spec.Burst,
            TokensPerPeriod = spec.RequestsPerSecond,
            ReplenishmentPeriod = TimeSpan.FromSeconds(1),
            QueueLimit = 0,
            AutoReplenishment = true,
        }));

    public void Dispose()
    {
        foreach (var (_, entry) in routes)
        {
            entry.Limiter.Dispose();
        }

        routes.Clear();
    }
}
