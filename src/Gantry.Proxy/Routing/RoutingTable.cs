using Gantry.Core;
using Gantry.Core.Manifest;
using Gantry.Core.Manifest.Values;

namespace Gantry.Proxy.Routing;

/// <summary>The router's whole configuration: routes on front listeners. Immutable; replaced whole.</summary>
public sealed record RoutingTable(ValueList<RouteSpec> Routes)
{
    public static RoutingTable Empty { get; } = new([]);

    /// <summary>The distinct front addresses the routes listen on.</summary>
    public IEnumerable<Endpoint> Listeners => Routes.Select(r => r.Listen).Distinct();
}

public enum LoadBalancingPolicy
{
    RoundRobin,
    LeastRequests,
    PowerOfTwoChoices,
}

/// <summary>
/// One service's routing on a front listener: optional Host names and path prefix, backends grouped by
/// role, header/cookie matches, a mirror, stickiness, passive health and timeouts.
/// </summary>
public sealed record RouteSpec(
    string Name,
    Endpoint Listen,
    ValueList<string> Hosts,
    string PathPrefix,
    ValueList<BackendGroup> Groups,
    ValueList<GroupMatch> Matches,
    MirrorSpec? Mirror,
    StickySpec? Sticky,
    PassiveHealthSpec PassiveHealth,
    TimeSpan Timeout,
    TimeSpan DrainTimeout,
    TlsSpec? Tls = null,
    RateLimitSpec? RateLimit = null,
    MaintenanceSpec? Maintenance = null,
    PauseSpec? Pause = null);

/// <summary>Instances of one role (stable, canary, preview, baseline) and the share of traffic they get.</summary>
public sealed record BackendGroup(string Name, int Weight, ValueList<Endpoint> Instances, LoadBalancingPolicy LoadBalancing)
{
    public const string Stable = "stable";
}

/// <summary>Requests matching all of <see cref="Match"/> go to <see cref="Group"/>, whatever the weights.</summary>
public sealed record GroupMatch(ValueList<RouteMatch> Match, string Group);

/// <summary>Copies <see cref="Percent"/> of (matching) requests to a group; its answers are discarded.</summary>
public sealed record MirrorSpec(string Group, double Percent, ValueList<RouteMatch> Match);

/// <summary>Keeps a user on one side of the split by hashing a cookie (set by the router when absent) or a header.</summary>
public sealed record StickySpec(string? Cookie, string? Header);

/// <summary>While set, the route answers every request 503 with Retry-After and <see cref="Message"/> (HTML or JSON as the client accepts), without its instances.</summary>
public sealed record MaintenanceSpec(string Message, int RetryAfterSeconds);

/// <summary>While set, new requests wait (each up to <see cref="MaxWait"/>) for a table without the pause; at the limit, 503 with Retry-After.</summary>
public sealed record PauseSpec(TimeSpan MaxWait, int RetryAfterSeconds);

/// <summary>Requests per second each client address may send to the route, with bursts up to <see cref="Burst"/>; past it, 429 with Retry-After.</summary>
public sealed record RateLimitSpec(int RequestsPerSecond, int Burst);

/// <summary>TLS on the front listener, from PEM files; with it, clients may speak HTTP/2 (negotiated by ALPN).</summary>
public sealed record TlsSpec(string CertificateFile, string KeyFile);

/// <summary>An instance failing this many requests in a row is taken out for <see cref="EjectFor"/>.</summary>
public sealed record PassiveHealthSpec(int ConsecutiveFailures, TimeSpan EjectFor)
{
    public static PassiveHealthSpec Default { get; } = new(5, TimeSpan.FromSeconds(10));
}
