using Gantry.Core.Manifest.Schema;
using Gantry.Core.Manifest;
using Gantry.Core.Manifest.Values;
using Gantry.Core.Manifest.Yaml;

namespace Gantry.Proxy.Routing;

/// <summary>The outcome of reading a routing table: the table, or every problem with its position.</summary>
public sealed record RoutingTableReadResult(RoutingTable? Table, IReadOnlyList<Diagnostic> Diagnostics);

/// <summary>
/// Reads a routing-table file (YAML, or JSON, which is YAML) with the manifest's reader:
/// unknown keys, bad values and dangling group references are errors with line and column.
/// </summary>
public static class RoutingTableReader
{
    public static RoutingTableReadResult ReadFile(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            var bag = new DiagnosticBag(path);
            bag.Error(SourcePosition.Start, "cannot read the routing table: " + ex.Message);
            return new RoutingTableReadResult(null, bag.ToSortedList());
        }

        return ReadText(text, path);
    }

    public static RoutingTableReadResult ReadText(string text, string file = "routes.yaml")
    {
        var bag = new DiagnosticBag(file);
        var root = YamlTreeReader.Read(text, bag);
        RoutingTable? table = null;
        if (!bag.HasErrors)
        {
            if (root is null)
            {
                bag.Error(SourcePosition.Start, "the routing table is empty; it needs 'routes'");
            }
            else
            {
                table = Read(new ReadContext(bag, new SourceMap(file), null), root);
            }
        }

        return new RoutingTableReadResult(bag.HasErrors ? null : table, bag.ToSortedList());
    }

    private static RoutingTable? Read(ReadContext ctx, YamlNode root)
    {
        if (MapReader.Open(ctx, root, RoutingTableShapes.Root, "the routing table", string.Empty, "the routing table") is not { } m)
        {
            return null;
        }

        var seen = new Dictionary<(string, int, string, string), string>();
        var tlsByListener = new Dictionary<Endpoint, TlsSpec?>();
        var routes = m.List("routes", (node, i, path) =>
        {
            var what = $"route {i + 1}";
            if (MapReader.Open(ctx, node, RoutingTableShapes.Route, what, path, what) is not { } r || ReadRoute(ctx, r) is not { } route)
            {
                return null;
            }

            if (tlsByListener.TryGetValue(route.Listen, out var tls) && tls != route.Tls)
            {
                ctx.Error(r.Node.Start, $"route '{route.Name}' and an earlier route on {route.Listen} disagree about TLS; routes on one address share it");
            }

            tlsByListener[route.Listen] = route.Tls;
            foreach (var host in route.Hosts.DefaultIfEmpty("*"))
            {
                var key = (route.Listen.Host.ToUpperInvariant(), route.Listen.Port, host.ToUpperInvariant(), route.PathPrefix);
                if (!seen.TryAdd(key, route.Name))
                {
                    ctx.Error(r.Node.Start, $"route '{route.Name}' answers the same address, host and path prefix as route '{seen[key]}'");
                }
            }

            return route;
        });
        return new RoutingTable(routes);
    }

    private static RouteSpec? ReadRoute(ReadContext ctx, MapReader m)
    {
        var name = m.String("name");
        var listen = m.Endpoint("listen");
        var hosts = m.ScalarList<string>("hosts");
        var prefix = m.String("pathPrefix") ?? "/";
        if (!prefix.StartsWith('/'))
        {
            ctx.Error(m.PositionOf("pathPrefix"), $"'pathPrefix' must start with '/', got '{prefix}'");
        }

        var groups = new List<BackendGroup>();
        foreach (var (key, value, path) in m.Entries("groups", "group"))
        {
            var what = $"group '{key.Value}'";
            if (MapReader.Open(ctx, value, RoutingTableShapes.Group, what, path, what) is { } g)
            {
                var weight = g.Int("weight");
                var instances = g.ScalarList<Endpoint>("instances");
                var policy = g.Enum<LoadBalancingPolicy>("loadBalancing") ?? LoadBalancingPolicy.RoundRobin;
                if (weight is { } w)
                {
                    groups.Add(new BackendGroup(key.Value, w, instances, policy));
                }
            }
        }

        if (m.Has("groups") && groups.Count > 0 && groups.Sum(g => (long)g.Weight) == 0)
        {
            ctx.Error(m.PositionOf("groups"), "every group has weight 0: no request could be routed");
        }

        var names = groups.Select(g => g.Name).ToList();
        void CheckGroup(string group, SourcePosition at)
        {
            if (!names.Contains(group))
            {
                var hint = Suggestions.Closest(group, names);
                ctx.Error(at, $"unknown group '{group}'" + (hint is null ? $"; groups are {string.Join(", ", names)}" : $"; did you mean '{hint}'?"));
            }
        }

        var matches = m.List("matches", (node, i, path) =>
        {
            var what = $"match {i + 1}";
            if (MapReader.Open(ctx, node, RoutingTableShapes.GroupMatch, what, path, what) is not { } gm)
            {
                return null;
            }

            var group = gm.String("group");
            var match = ManifestReader.ReadMatch(ctx, gm, what);
            if (group is not null)
            {
                CheckGroup(group, gm.PositionOf("group"));
            }

            return group is null || match is null ? null : new GroupMatch([match], group);
        });

        MirrorSpec? mirror = null;
        if (m.Object("mirror", "mirror") is { } mm)
        {
            var group = mm.String("group");
            var percent = mm.Number("percent");
            var match = mm.List("match", (node, i, path) =>
                MapReader.Open(ctx, node, ManifestShapes.RouteMatch, $"mirror match {i + 1}", path, $"mirror match {i + 1}") is { } r
                    ? ManifestReader.ReadMatch(ctx, r, $"mirror match {i + 1}")
                    : null);
            if (group is not null)
            {
                CheckGroup(group, mm.PositionOf("group"));
            }

            mirror = group is null || percent is null ? null : new MirrorSpec(group, percent.Value, match);
        }

        var sticky = m.Object("sticky", "stickiness") is { } s ? new StickySpec(s.String("cookie"), s.String("header")) : null;
        var health = m.Object("passiveHealth", "passive health") is { } h
            ? new PassiveHealthSpec(h.Int("consecutiveFailures") ?? PassiveHealthSpec.Default.ConsecutiveFailures, h.Duration("ejectFor") ?? PassiveHealthSpec.Default.EjectFor)
            : PassiveHealthSpec.Default;
        var timeout = m.Duration("timeout") ?? TimeSpan.FromSeconds(100);
        var drain = m.Duration("drainTimeout") ?? Core.Manifest.ServiceSpec.DefaultRouterDrain;
        TlsSpec? tls = null;
        if (m.Object("tls", "tls") is { } t && t.String("certificate") is { } cert && t.String("key") is { } keyFile)
        {
            var folder = Path.GetDirectoryName(Path.GetFullPath(ctx.Positions.File)) ?? ".";
            tls = new TlsSpec(Path.GetFullPath(cert, folder), Path.GetFullPath(keyFile, folder));
            foreach (var (file, field) in new[] { (tls.CertificateFile, "certificate"), (tls.KeyFile, "key") })
            {
                if (!File.Exists(file))
                {
                    ctx.Error(t.PositionOf(field), $"'{field}': no such file: {file}");
                }
            }
        }

        return name is null || listen is null || groups.Count == 0
            ? null
            : new RouteSpec(name, listen, hosts, prefix, [.. groups], matches, mirror, sticky, health, timeout, drain, tls,
                m.Object("rateLimit", "rate limit") is { } rl && rl.Int("requestsPerSecond") is { } rate ? new RateLimitSpec(rate, rl.Int("burst") ?? rate) : null);
    }
}
