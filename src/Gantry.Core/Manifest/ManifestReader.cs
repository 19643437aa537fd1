using System.Collections.Immutable;
using Gantry.Core.Manifest.Schema;
using Gantry.Core.Manifest.Values;
using Gantry.Core.Manifest.Yaml;

namespace Gantry.Core.Manifest;

/// <summary>Turns a YAML tree into a <see cref="GantryManifest"/>, reporting every problem with its position.</summary>
internal sealed partial class ManifestReader(ReadContext ctx)
{
    private static readonly TimeSpan DefaultProgressDeadline = TimeSpan.FromMinutes(10);

    private readonly List<(string Name, SourcePosition At)> templateRefs = [];
    private readonly List<(string Name, SourcePosition At)> serviceRefs = [];
    private readonly List<(string Name, SourcePosition At)> gateRefs = [];
    private readonly List<(string Name, SourcePosition At)> receiverRefs = [];
    private readonly List<(string Name, SourcePosition At)> environmentRefs = [];
    private readonly List<(Endpoint Address, SourcePosition At, string Owner)> listens = [];

    public GantryManifest? Read(YamlNode? root)
    {
        if (root is null || root is YamlScalar { IsNull: true })
        {
            ctx.Error(SourcePosition.Start, "the manifest is empty; it needs at least a 'services' section");
            return null;
        }

        var m = MapReader.Open(ctx, root, ManifestShapes.Root, "the manifest", string.Empty, "the manifest");
        if (m is null)
        {
            return null;
        }

        m.Int("version");
        var services = ReadNamed(m, "services", "service", ManifestShapes.Service, ReadService);
        if (m.Lookup("services") is { Value: YamlMapping { Entries.Length: 0 } or YamlScalar { IsNull: true } } empty)
        {
            ctx.Error(empty.Value.Start, "'services' needs at least one service");
        }

        var analysis = ReadNamed(m, "analysis", "analysis template", ManifestShapes.AnalysisTemplate, ReadTemplate);
        var environments = ReadNamed(m, "environments", "environment", ManifestShapes.Environment, ReadEnvironment);
        var gates = ReadNamed(m, "gates", "gate", ManifestShapes.Gate, ReadGate);
        var notifications = m.Object("notifications", "notifications") is { } n ? ReadNotifications(n) : null;
        var incidents = m.Object("incidents", "incidents") is { } i ? ReadIncidents(i) : null;
        CheckReceivers();

        CheckReferences(templateRefs, analysis.Select(a => a.Name), "analysis template", "analysis");
        CheckLikeForLike(analysis);
        CheckReferences(serviceRefs, services.Select(s => s.Name), "service", "services");
        CheckReferences(gateRefs, gates.Select(g => g.Name), "gate", "gates");
        CheckListenAddresses();
        CheckSharedFrontDoors(services, environments);
        CheckPromotions(environments);

        CheckReferences(environmentRefs, environments.Select(e => e.Name), "environment", "environments");
        return ctx.Diagnostics.HasErrors ? null : new GantryManifest(services, analysis, environments, gates, incidents, notifications);
    }

    private ImmutableArray<T> ReadNamed<T>(MapReader m, string key, string what, Shape shape, Func<string, MapReader, SourcePosition, T?> read)
        where T : class
    {
        var result = ImmutableArray.CreateBuilder<T>();
        foreach (var (name, value, path) in m.Entries(key, what))
        {
            var label = $"{what} '{name.Value}'";
            if (MapReader.Open(ctx, value, shape, label, path, label) is { } reader && read(name.Value, reader, name.Start) is { } item)
            {
                result.Add(item);
            }
        }

        return result.ToImmutable();
    }

    // ---------------------------------------------------------------- services

    private ServiceSpec? ReadService(string name, MapReader m, SourcePosition nameAt)
    {
        var process = ReadRuntimeSection(m, $"service '{name}'");
        if (RuntimeKeysOf(m) is { Count: not 1 } keys)
        {
            ctx.Error(nameAt, keys.Count > 1
                ? $"service '{name}' has both {string.Join(" and ", keys.Select(k => $"'{k}'"))}: give exactly one runtime section"
                : $"service '{name}' has no runtime section: give 'process' (a local process), 'docker' (a container) or 'swarm' (a service of a Docker Swarm)");
        }

        var listen = m.Endpoint("listen");
        if (listen is not null)
        {
            listens.Add((listen, m.PositionOf("listen"), $"service '{name}'"));
        }

        var replicas = m.Int("replicas") ?? 1;
        var health = m.Object("health", $"health of service '{name}'") is { } h ? ReadHealth(h) : HealthSpec.None;
        StrategySpec? strategy = m.Has("strategy")
            ? m.Object("strategy", $"strategy of service '{name}'") is { } s ? ReadStrategy(s, name) : null
            : RollingStrategy.Default;
        var deadline = Positive(m, "progressDeadline") ?? DefaultProgressDeadline;
        var allow = m.Object("variables", $"variables of service '{name}'") is { } v ? ReadAllowedVariables(v) : [];
        var sticky = m.Object("sticky", $"stickiness of service '{name}'") is { } st ? new StickySpec(st.String("cookie"), st.String("header")) : null;
        if (sticky is not null)
        {
            RequireRouter(Traffic.RouterCapabilities.Stickiness, m.KeyPositionOf("sticky"), $"'sticky' of service '{name}'");
        }

        RateLimit? rateLimit = null;
        if (m.Object("rateLimit", $"rate limit of service '{name}'") is { } rl && rl.Int("requestsPerSecond") is { } rate)
        {
            rateLimit = new RateLimit(rate, rl.Int("burst") ?? rate);
            RequireRouter(Traffic.RouterCapabilities.RateLimits, m.KeyPositionOf("rateLimit"), $"'rateLimit' of service '{name}'");
        }

        var tls = m.Object("tls", $"TLS of service '{name}'") is { } t && t.String("certificate") is { } certificate && t.String("key") is { } key ? new ServiceTls(certificate, key) : null;
        if (m.SchemeOf("listen") is { } scheme && (scheme == "https") != m.Has("tls"))
        {
            ctx.Error(m.PositionOf("listen"), scheme == "https"
                ? $"service '{name}' listens on https:// but has no 'tls' with its certificate and key"
                : $"service '{name}' listens on http:// but has 'tls': write https://, or drop the scheme");
        }

        if (RuntimeKeysOf(m).Count > 0 && ctx.Positions.Find(m.Child("health") + ".readiness") is null)
        {
            ctx.Warning(nameAt, $"service '{name}' has no readiness probe: its instances get traffic as soon as their process starts");
        }

        return process is null || listen is null || strategy is null
            ? null
            : new ServiceSpec(name, process, listen, replicas, health, strategy, deadline, Positive(m, "drain") ?? ServiceSpec.DefaultDrain, allow, sticky, rateLimit, tls, ReadJobs(m), ReadWatch(m, name), ReadSlos(m));
    }

    /// <summary>The names (or 'PREFIX*') a deploy may set although they are loader, runtime or shell hooks.</summary>
    private ImmutableArray<string> ReadAllowedVariables(MapReader m) => m.List("allow", (node, i, _) =>
    {
        if (ctx.ReadScalar(new StringType(), node, $"item {i + 1} of 'allow'") is not string text)
        {
            return null;
        }

        var bare = text.EndsWith('*') ? text[..^1] : text;
        if (bare.Length == 0 || !bare.All(c => char.IsAsciiLetterOrDigit(c) || c == '_') || char.IsAsciiDigit(bare[0]))
        {
            ctx.Error(node.Start, $"item {i + 1} of 'allow' must be a variable name (letters, digits, '_') or a prefix ending in '*', got '{text}'");
            return null;
        }

        return text;
    });

    private ProcessSpec? ReadProcess(MapReader m)
    {
        var command = m.String("command");
        if (command is not null)
        {
            CheckPlaceholders(m.Lookup("command")!.Value, Placeholders.Process, "'command'");
        }

        var args = ReadArgs(m);
        var env = ReadStringMap(m, "env", "environment variable", Placeholders.Process);
        var workingDir = m.String("workingDir");
        if (workingDir is not null)
        {
            CheckPlaceholders(m.Lookup("workingDir")!.Value, Placeholders.Process, "'workingDir'");
        }

        var stopTimeout = Positive(m, "stopTimeout") ?? ProcessSpec.DefaultStopTimeout;
        var runAs = m.String("runAs");
        if (runAs is not null && (runAs == "root" || runAs == "0" || runAs.Length == 0 || !runAs.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.')))
        {
            ctx.Error(m.Lookup("runAs")!.Value.Start, runAs is "root" or "0"
                ? "'runAs' may not be root: instances never run with the control plane's privileges"
                : $"'runAs' must be a user name (letters, digits, '_', '-', '.'), got '{runAs}'");
        }

        if (command is null)
        {
            return null;
        }

        if (!Mentions(m.Node, "{port}"))
        {
            ctx.Warning(m.Node.Start, "the process is never told its port: pass {port} in 'args' or 'env' (for example --urls http://127.0.0.1:{port})");
        }

        return new ProcessSpec(command, args, env, workingDir, stopTimeout, runAs);
    }

    /// <summary>A runtime section's arguments, each checked for placeholders.</summary>
    private ImmutableArray<string> ReadArgs(MapReader m) => m.List("args", (node, i, _) =>
    {
        var s = ctx.ReadScalar(new StringType(), node, $"item {i + 1} of 'args'") as string;
        if (s is not null)
        {
            CheckPlaceholders(node, Placeholders.Process, $"item {i + 1} of 'args'");
        }

        return s;
    });

    private ImmutableArray<KeyValuePair<string, string>> ReadStringMap(MapReader m, string key, string keyWhat, ImmutableArray<string>? placeholders)
    {
        var result = ImmutableArray.CreateBuilder<KeyValuePair<string, string>>();
        foreach (var (k, v, _) in m.Entries(key, keyWhat))
        {
            if (ctx.ReadScalar(new StringType(), v, $"'{k.Value}'") is string s)
            {
                if (placeholders is { } allowed)
                {
                    CheckPlaceholders(v, allowed, $"'{k.Value}'");
                }

                // An HTTP header's name is a token and its value one line: a line break would send a header of its own.
                if (key == "headers" && (k.Value.Length == 0 || !k.Value.All(c => char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c))))
                {
                    ctx.Error(k.Start, $"header name '{k.Value}' is not valid: letters, digits and !#$%&'*+-.^_`|~ only");
                    continue;
                }

                if (key == "headers" && s.Any(c => char.IsControl(c) && c != '\t'))
                {
                    ctx.Error(v.Start, $"the value of header '{k.Value}' holds a control character (U+{(int)s.First(c => char.IsControl(c) && c != '\t'):X4}): a line break would send a header of its own");
                    continue;
                }

                result.Add(new(k.Value, s));
            }
        }

        return result.ToImmutable();
    }

    private void CheckPlaceholders(YamlNode node, ImmutableArray<string> allowed, string label)
    {
        if (node is not YamlScalar s)
        {
            return;
        }

        foreach (var (word, offset) in Placeholders.Find(s.Value))
        {
            if (allowed.Contains(word))
            {
                continue;
            }

            var hint = Suggestions.Closest(word, allowed);
            ctx.Error(s.PositionOf(offset), $"unknown placeholder '{{{word}}}' in {label}" + (hint is null
                ? $"; known placeholders: {string.Join(", ", allowed.Select(a => "{" + a + "}"))}"
                : $"; did you mean '{{{hint}}}'?"));
        }
    }

    /// <summary>Whether any scalar under a node contains a text (whatever else is wrong with it).</summary>
    private static bool Mentions(YamlNode node, string text) => node switch
    {
        YamlScalar s => s.Value.Contains(text, StringComparison.Ordinal),
        YamlSequence seq => seq.Items.Any(i => Mentions(i, text)),
        YamlMapping map => map.Entries.Any(e => Mentions(e.Value, text)),
        _ => false,
    };

    private HealthSpec ReadHealth(MapReader m) => new(
        m.Object("readiness", "readiness probe") is { } r ? ReadProbe(r) : null,
        m.Object("liveness", "liveness probe") is { } l ? ReadProbe(l) : null,
        m.Object("startup", "startup probe") is { } s ? ReadProbe(s) : null);

    private ProbeSpec? ReadProbe(MapReader m)
    {
        var path = m.String("path");
        if (path is not null && !path.StartsWith('/'))
        {
            ctx.Error(m.PositionOf("path"), $"'path' must start with '/', got '{path}'");
            path = null;
        }

        var interval = Positive(m, "interval") ?? TimeSpan.FromSeconds(2);
        var timeout = Positive(m, "timeout") ?? TimeSpan.FromSeconds(1);
        var threshold = m.Int("failureThreshold") ?? 3;
        var delay = m.Duration("initialDelay") ?? TimeSpan.Zero;
        if (timeout > interval && m.Has("timeout"))
        {
            ctx.Warning(m.PositionOf("timeout"), $"the probe timeout ({DurationSyntax.Format(timeout)}) is longer than its interval ({DurationSyntax.Format(interval)})");
        }

        return path is null ? null : new ProbeSpec(path, interval, timeout, threshold, delay);
    }

    /// <summary>A duration that must be longer than zero.</summary>
    private TimeSpan? Positive(MapReader m, string key)
    {
        var value = m.Duration(key);
        if (value is { } v && v <= TimeSpan.Zero)
        {
            ctx.Error(m.PositionOf(key), $"'{key}' must be longer than 0s");
            return null;
        }

        return value;
    }
}
