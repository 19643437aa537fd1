using System.Collections.Concurrent;
using Endpoint = Gantry.Core.Manifest.Values.Endpoint;
using Gantry.Proxy.Health;
using Gantry.Proxy.LoadBalancing;
using Gantry.Proxy.Metrics;
using Gantry.Proxy.Splitting;
using Microsoft.AspNetCore.Http;

namespace Gantry.Proxy.Routing;

/// <summary>A backend group ready for requests: live instance states, a balancer and its metrics.</summary>
public sealed class CompiledGroup(BackendGroup spec, InstanceState[] instances, ILoadBalancer balancer, TrafficMetrics metrics, TrafficMetrics[] instanceMetrics)
{
    /// <summary>Metrics of each instance, aligned with <see cref="Instances"/>.</summary>
    public TrafficMetrics[] InstanceMetrics { get; } = instanceMetrics;

    public BackendGroup Spec { get; } = spec;

    public string Name => Spec.Name;

    public InstanceState[] Instances { get; } = instances;

    public ILoadBalancer Balancer { get; } = balancer;

    public TrafficMetrics Metrics { get; } = metrics;
}

/// <summary>The split decision for one request.</summary>
public readonly record struct SplitDecision(CompiledGroup Group, string? NewStickyCookie);

/// <summary>
/// A route ready for requests. Weighted groups are laid on the line [0, 1) with the non-stable groups
/// first and stable last, so a sticky user whose point is on the canary stays there as its weight grows.
/// </summary>
public sealed class CompiledRoute
{
    private const double Golden = 0.6180339887498949;
    private readonly CompiledGroup[] byLine;
    private readonly double[] upperBounds;
    private readonly (RequestMatcher Matcher, CompiledGroup Group)[] matches;
    private readonly RequestMatcher? mirrorMatcher;
    private long sequence;

    internal CompiledRoute(RouteSpec spec, CompiledGroup[] groups, TrafficMetrics metrics, System.Threading.RateLimiting.PartitionedRateLimiter<System.Net.IPAddress>? rateLimiter = null)
    {
        Spec = spec;
        RateLimiter = rateLimiter;
        Groups = groups;
        Metrics = metrics;
        byLine = [.. groups.Where(g => g.Spec.Weight > 0).OrderBy(g => g.Name == BackendGroup.Stable ? 1 : 0)];
        var total = (double)byLine.Sum(g => (long)g.Spec.Weight);
        var running = 0L;
        upperBounds = [.. byLine.Select(g => (running += g.Spec.Weight) / total)];
        matches = [.. spec.Matches.Select(m => (new RequestMatcher(m.Match), groups.First(g => g.Name == m.Group)))];
        PrefixSegments = spec.PathPrefix.TrimEnd('/');
        if (spec.Mirror is { } mirror)
        {
            MirrorGroup = groups.First(g => g.Name == mirror.Group);
            mirrorMatcher = new RequestMatcher(mirror.Match);
        }
    }

    public RouteSpec Spec { get; }

    /// <summary>The route's per-client limit, when it has one.</summary>
    public System.Threading.RateLimiting.PartitionedRateLimiter<System.Net.IPAddress>? RateLimiter { get; }

    public CompiledGroup[] Groups { get; }

    public TrafficMetrics Metrics { get; }

    public CompiledGroup? MirrorGroup { get; }

    /// <summary>The path prefix without a trailing '/': empty for the root, which matches every path.</summary>
    public string PrefixSegments { get; }

    /// <summary>Whether the route answers this Host (any, when it names none).</summary>
    public bool AnswersHost(string host)
    {
        if (Spec.Hosts.Count == 0)
        {
            return true;
        }

        foreach (var name in Spec.Hosts)
        {
            if (string.Equals(name, host, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Where a request goes: a matching header/cookie route, else its sticky point, else the next point of an even sequence.</summary>
    public SplitDecision Choose(HttpRequest request)
    {
        foreach (var (matcher, group) in matches)
        {
            if (matcher.Matches(request))
            {
                return new SplitDecision(group, null);
            }
        }

        string? newCookie = null;
        double point;
        if (Spec.Sticky is { } sticky && StickyKey(request, sticky) is { } key)
        {
            point = StickyHash.PointOf(key);
        }
        else if (Spec.Sticky is { Cookie: not null })
        {
            newCookie = Guid.NewGuid().ToString("N");
            point = StickyHash.PointOf(newCookie);
        }
        else
        {
            // An additive recurrence with the golden ratio: over any n requests each group's share is
            // within about 1/n of its weight, without a lock or a random source.
            point = (Interlocked.Increment(ref sequence) * Golden) % 1.0;
        }

        return new SplitDecision(GroupAt(point), newCookie);
    }

    /// <summary>The group owning a point of the line [0, 1).</summary>
    public CompiledGroup GroupAt(double point)
    {
        for (var i = 0; i < upperBounds.Length - 1; i++)
        {
            if (point < upperBounds[i])
            {
                return byLine[i];
            }
        }

        return byLine[^1];
    }

    /// <summary>Whether to copy this request to the mirror group.</summary>
    public bool ShouldMirror(HttpRequest request) =>
        Spec.Mirror is { } mirror
        && mirror.Percent > 0
        && (mirrorMatcher is null || mirrorMatcher.IsEmpty || mirrorMatcher.Matches(request))
        && (mirror.Percent >= 100 || Random.Shared.NextDouble() * 100 < mirror.Percent);

    private static string? StickyKey(HttpRequest request, StickySpec sticky) =>
        sticky.Header is { } header
            ? request.Headers.TryGetValue(header, out var v) && v.Count > 0 ? v.ToString() : null
            : request.Cookies[sticky.Cookie!];
}

/// <summary>A whole routing table ready for requests; built once per swap, read by every request.</summary>
public sealed class CompiledTable
{
    private readonly Dictionary<int, CompiledRoute[]> byPort;

    private CompiledTable(RoutingTable spec, Dictionary<int, CompiledRoute[]> byPort)
    {
        Spec = spec;
        this.byPort = byPort;
    }

    public RoutingTable Spec { get; }

    public IEnumerable<CompiledRoute> Routes => byPort.Values.SelectMany(r => r);

    /// <summary>Builds the table, reusing instance states and metrics that already exist.</summary>
    public static CompiledTable Build(RoutingTable spec, InstanceRegistry instances, MetricsRegistry metrics, RateLimiting.ClientRateLimits? limits = null)
    {
        var byPort = spec.Routes
            .Select(route => new CompiledRoute(
                route,
                [.. route.Groups.Select(g => new CompiledGroup(
                    g,
                    [.. g.Instances.Select(i => instances.Get(i, route.DrainTimeout))],
                    LoadBalancers.Create(g.LoadBalancing),
                    metrics.For(route.Name, g.Name),
                    [.. g.Instances.Select(i => metrics.For(route.Name, g.Name, i))]))],
                metrics.For(route.Name, null),
                limits?.For(route)))
            .GroupBy(r => r.Spec.Listen.Port)
            .ToDictionary(
                g => g.Key,
                g => g.OrderByDescending(r => r.Spec.Hosts.Count > 0).ThenByDescending(r => r.Spec.PathPrefix.Length).ToArray());
        return new CompiledTable(spec, byPort);
    }

    /// <summary>The route for a request arriving on a local port: Host match first, then the longest path prefix.</summary>
    public CompiledRoute? Find(int port, HostString host, PathString path)
    {
        if (!byPort.TryGetValue(port, out var routes))
        {
            return null;
        }

        foreach (var route in routes)
        {
            if (!route.AnswersHost(host.Host))
            {
                continue;
            }

            if (route.PrefixSegments.Length == 0 || path.StartsWithSegments(route.PrefixSegments, StringComparison.Ordinal))
            {
                return route;
            }
        }

        return null;
    }
}

/// <summary>Metrics series by route, group and instance; they outlive routing-table swaps.</summary>
public sealed class MetricsRegistry(TimeProvider time)
{
    private readonly ConcurrentDictionary<(string Route, string? Group, Endpoint? Instance), TrafficMetrics> series = new();

    public TrafficMetrics For(string route, string? group, Endpoint? instance = null) =>
        series.GetOrAdd((route, group, instance), _ => new TrafficMetrics(time));

    public IEnumerable<((string Route, string? Group, Endpoint? Instance) Key, TrafficMetrics Metrics)> All =>
        series.Select(kv => (kv.Key, kv.Value));
}
