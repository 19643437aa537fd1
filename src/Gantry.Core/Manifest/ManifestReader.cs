using System.Collections.Immutable;
using System.Globalization;
using System.Text.RegularExpressions;
using Gantry.Core.Manifest.Schema;
using Gantry.Core.Manifest.Values;
using Gantry.Core.Manifest.Yaml;
using NodaTime;

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
        var process = m.Object("process", $"process of service '{name}'") is { } p ? ReadProcess(p) : null;
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

        if (m.Has("process") && ctx.Positions.Find(m.Child("health") + ".readiness") is null)
        {
            ctx.Warning(nameAt, $"service '{name}' has no readiness probe: its instances get traffic as soon as their process starts");
        }

        return process is null || listen is null || strategy is null
            ? null
            : new ServiceSpec(name, process, listen, replicas, health, strategy, deadline, allow);
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

        var args = m.List("args", (node, i, _) =>
        {
            var s = ctx.ReadScalar(new StringType(), node, $"item {i + 1} of 'args'") as string;
            if (s is not null)
            {
                CheckPlaceholders(node, Placeholders.Process, $"item {i + 1} of 'args'");
            }

            return s;
        });
        var env = ReadStringMap(m, "env", "environment variable", Placeholders.Process);
        var workingDir = m.String("workingDir");
        if (workingDir is not null)
        {
            CheckPlaceholders(m.Lookup("workingDir")!.Value, Placeholders.Process, "'workingDir'");
        }

        var stopTimeout = Positive(m, "stopTimeout") ?? TimeSpan.FromSeconds(10);
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

    // ---------------------------------------------------------------- strategies

    private StrategySpec? ReadStrategy(MapReader m, string service) => m.Choice switch
    {
        "rolling" => m.Object("rolling", $"rolling strategy of service '{service}'") is { } r ? ReadRolling(r) : null,
        "blueGreen" => m.Object("blueGreen", $"blue-green strategy of service '{service}'") is { } b ? ReadBlueGreen(b, service) : null,
        "canary" => m.Object("canary", $"canary strategy of service '{service}'") is { } c ? ReadCanary(c) : null,
        _ => null,
    };

    private RollingStrategy? ReadRolling(MapReader m)
    {
        var surge = m.CountOrPercent("maxSurge") ?? RollingStrategy.Default.MaxSurge;
        var unavailable = m.CountOrPercent("maxUnavailable") ?? RollingStrategy.Default.MaxUnavailable;
        if (surge.IsZero && unavailable.IsZero)
        {
            ctx.Error(m.Node.Start, "'maxSurge' and 'maxUnavailable' cannot both be 0: the update could never make progress");
            return null;
        }

        return new RollingStrategy(surge, unavailable);
    }

    private BlueGreenStrategy? ReadBlueGreen(MapReader m, string service)
    {
        var preview = m.Endpoint("previewListen");
        if (preview is not null)
        {
            listens.Add((preview, m.PositionOf("previewListen"), $"the preview of service '{service}'"));
        }

        var auto = m.Bool("autoPromotion") ?? true;
        var seconds = m.Int("autoPromotionSeconds");
        if (!auto && seconds is not null)
        {
            ctx.Warning(m.KeyPositionOf("autoPromotionSeconds"), "'autoPromotionSeconds' has no effect while 'autoPromotion' is false");
        }

        var delay = m.Duration("scaleDownDelay") ?? TimeSpan.FromSeconds(30);
        var pre = m.Object("prePromotionAnalysis", "pre-promotion analysis") is { } a ? ReadAnalysisRef(a) : null;
        var post = m.Object("postPromotionAnalysis", "post-promotion analysis") is { } b ? ReadAnalysisRef(b) : null;
        return new BlueGreenStrategy(preview, auto, seconds ?? 0, delay, pre, post);
    }

    private CanaryStrategy? ReadCanary(MapReader m)
    {
        var firstRef = templateRefs.Count;
        var weight = 0;
        (int Step, SourcePosition At)? completedAt = null;
        var steps = m.List("steps", (node, i, path) =>
        {
            var what = $"canary step {i + 1}";
            if (MapReader.Open(ctx, node, ManifestShapes.CanaryStep, what, path, what) is not { } step || step.Choice is not { } kind)
            {
                return null;
            }

            if (completedAt is { } done)
            {
                ctx.Error(node.Start, $"{what} can never run: the canary completes at 'setWeight: 100' in step {done.Step}");
            }

            CanaryStep? result = kind switch
            {
                "setWeight" => ReadSetWeight(step, what, ref weight),
                "pause" => ReadPause(step, what),
                "analysis" => step.Object("analysis", $"analysis of {what}") is { } a && ReadAnalysisRef(a) is { } r ? new AnalysisStep(r) : null,
                "setHeaderRoute" => step.Object("setHeaderRoute", $"setHeaderRoute of {what}") is { } h ? new SetHeaderRouteStep(ReadMatches(h)) : null,
                "setMirror" => step.Object("setMirror", $"setMirror of {what}") is { } mi && mi.Weight("percent") is { } pct ? new SetMirrorStep(pct, ReadMatches(mi)) : null,
                _ => null,
            };
            if (result is SetWeightStep { Weight: 100 } && completedAt is null)
            {
                completedAt = (i + 1, node.Start);
            }

            return result;
        });
        var abortDelay = m.Duration("abortScaleDownDelay") ?? TimeSpan.FromSeconds(30);
        AnalysisRef? background = null;
        var startingStep = 0;
        if (m.Object("analysis", "background analysis") is { } bg)
        {
            background = ReadAnalysisRef(bg);
            startingStep = bg.Int("startingStep") ?? 0;
            if (startingStep > 0 && startingStep >= steps.Length)
            {
                ctx.Error(ctx.Positions.Find(bg.Child("startingStep")) ?? bg.KeyPositionOf("startingStep"), string.Create(CultureInfo.InvariantCulture, $"'startingStep' {startingStep} is past the last step (the canary has {steps.Length} step{(steps.Length == 1 ? string.Empty : "s")}, numbered from 0)"));
            }
        }

        var baseline = m.Enum<CanaryBaseline>("baseline") ?? CanaryBaseline.Stable;
        var strategy = new CanaryStrategy(steps, abortDelay, background, startingStep, baseline);
        NoteComparisons(strategy, firstRef);
        return strategy;
    }

    private SetWeightStep? ReadSetWeight(MapReader step, string what, ref int current)
    {
        if (step.Weight("setWeight") is not { } w)
        {
            return null;
        }

        var at = step.PositionOf("setWeight");
        if (w < current)
        {
            ctx.Error(at, $"{what} lowers the canary weight from {current} to {w}; weights never decrease (use 'gantry abort' to go back)");
        }
        else if (w == current)
        {
            ctx.Warning(at, $"{what} sets the weight to {w}, which it already is; the step has no effect");
        }

        current = Math.Max(current, w);
        return new SetWeightStep(w);
    }

    private PauseStep? ReadPause(MapReader step, string what)
    {
        var node = step.Lookup("pause")!.Value;
        TimeSpan? duration;
        SourcePosition at;
        if (node is YamlMapping)
        {
            var p = MapReader.Open(ctx, node, ManifestShapes.Pause, $"pause of {what}", step.Child("pause"), "'pause'");
            duration = p?.Duration("duration");
            at = p?.PositionOf("duration") ?? node.Start;
            if (p is not null && p.Has("duration") && duration is null)
            {
                return null;
            }
        }
        else if (node is YamlScalar { IsNull: true })
        {
            duration = null;
            at = node.Start;
        }
        else
        {
            if (ctx.ReadScalar(new DurationType(), node, "'pause'") is not TimeSpan d)
            {
                return null;
            }

            duration = d;
            at = node.Start;
        }

        if (duration is { } value && value <= TimeSpan.Zero)
        {
            ctx.Error(at, "a pause must be longer than 0s; write 'pause: {}' to wait until promoted");
            return null;
        }

        return new PauseStep(duration);
    }

    private ImmutableArray<RouteMatch> ReadMatches(MapReader m) =>
        m.List("match", (node, i, path) =>
        {
            var what = $"match {i + 1}";
            return MapReader.Open(ctx, node, ManifestShapes.RouteMatch, what, path, what) is { } r ? ReadMatch(ctx, r, what) : null;
        });

    /// <summary>Reads a header/cookie match; shared by the manifest and the router's routing table.</summary>
    internal static RouteMatch? ReadMatch(ReadContext ctx, MapReader m, string what)
    {
        var header = m.String("header");
        var cookie = m.String("cookie");
        var exact = m.String("exact");
        var prefix = m.String("prefix");
        var regex = m.String("regex");
        var sources = new[] { ("header", header), ("cookie", cookie) }.Where(x => x.Item2 is not null).ToList();
        var kinds = new[] { ("exact", exact), ("prefix", prefix), ("regex", regex) }.Where(x => x.Item2 is not null).ToList();
        var ok = true;
        if (sources.Count != 1)
        {
            ctx.Error(sources.Count == 0 ? m.Node.Start : m.KeyPositionOf(sources[1].Item1), $"{what} needs exactly one of 'header' or 'cookie'");
            ok = false;
        }

        if (kinds.Count != 1)
        {
            ctx.Error(kinds.Count == 0 ? m.Node.Start : m.KeyPositionOf(kinds[1].Item1), $"{what} needs exactly one of 'exact', 'prefix' or 'regex'");
            ok = false;
        }

        if (regex is not null)
        {
            try
            {
                _ = new Regex(regex, RegexOptions.CultureInvariant, TimeSpan.FromMilliseconds(100));
            }
            catch (ArgumentException ex)
            {
                ctx.Error(m.PositionOf("regex"), $"'regex' is not a valid regular expression: {ex.Message}");
                ok = false;
            }
        }

        if (!ok)
        {
            return null;
        }

        var (sourceName, name) = sources[0];
        var (kindName, value) = kinds[0];
        return new RouteMatch(
            sourceName == "header" ? MatchSource.Header : MatchSource.Cookie,
            name!,
            kindName switch { "exact" => MatchKind.Exact, "prefix" => MatchKind.Prefix, _ => MatchKind.Regex },
            value!);
    }

    private AnalysisRef? ReadAnalysisRef(MapReader m)
    {
        var names = m.ScalarList<string>("templates");
        for (var i = 0; i < names.Length; i++)
        {
            templateRefs.Add((names[i], ctx.Positions.Find($"{m.Child("templates")}[{i}]") ?? m.Node.Start));
        }

        var onFailure = m.Enum<AnalysisFailureAction>("onFailure") ?? AnalysisFailureAction.Abort;
        return names.IsEmpty ? null : new AnalysisRef(names, onFailure);
    }

    // ---------------------------------------------------------------- analysis

    private AnalysisTemplate? ReadTemplate(string name, MapReader m, SourcePosition nameAt)
    {
        var interval = Positive(m, "interval") ?? TimeSpan.FromSeconds(10);
        var count = m.Int("count");
        var initialDelay = m.Duration("initialDelay") ?? TimeSpan.Zero;
        var failureLimit = m.Int("failureLimit") ?? 0;
        var inconclusiveLimit = m.Int("inconclusiveLimit") ?? 0;
        var errorLimit = m.Int("consecutiveErrorLimit") ?? 4;
        var successLimit = m.Int("consecutiveSuccessLimit");
        var scores = m.Object("scores", $"scores of analysis template '{name}'") is { } s ? ReadScores(s) : ScoreThresholds.Default;
        var seen = new Dictionary<string, SourcePosition>(StringComparer.Ordinal);
        var metrics = m.List("metrics", (node, i, path) =>
        {
            var what = $"metric {i + 1} of analysis template '{name}'";
            if (MapReader.Open(ctx, node, ManifestShapes.Metric, what, path, what) is not { } metric)
            {
                return null;
            }

            var metricName = metric.String("name");
            if (metricName is not null && !seen.TryAdd(metricName, metric.PositionOf("name")))
            {
                ctx.Error(metric.PositionOf("name"), $"duplicate metric name '{metricName}' (first defined at {seen[metricName]})");
            }

            return ReadMetric(metric, metricName ?? $"#{i + 1}");
        });

        if (count is { } c && successLimit is { } sl && sl > c)
        {
            ctx.Warning(m.PositionOf("consecutiveSuccessLimit"), $"'consecutiveSuccessLimit' ({sl}) is more than 'count' ({c}) and can never be reached");
        }

        return scores is null || metrics.IsEmpty
            ? null
            : new AnalysisTemplate(name, interval, count, initialDelay, failureLimit, inconclusiveLimit, errorLimit, successLimit, scores, metrics);
    }

    private ScoreThresholds? ReadScores(MapReader m)
    {
        var pass = m.Number("pass") ?? ScoreThresholds.Default.Pass;
        var marginal = m.Number("marginal") ?? ScoreThresholds.Default.Marginal;
        if (marginal > pass)
        {
            ctx.Error(m.PositionOf("marginal"), $"'marginal' ({marginal.ToString(CultureInfo.InvariantCulture)}) cannot be above 'pass' ({pass.ToString(CultureInfo.InvariantCulture)})");
            return null;
        }

        return new ScoreThresholds(pass, marginal);
    }

    private MetricSpec? ReadMetric(MapReader m, string name)
    {
        var query = m.Object("provider", $"provider of metric '{name}'") is { } p ? ReadProvider(p) : null;
        var failWhen = m.Condition("failWhen");
        var passWhen = m.Condition("passWhen");
        var dryRun = m.Bool("dryRun") ?? false;
        var judge = m.Object("judge", $"judge of metric '{name}'") is { } j ? ReadJudge(j) : null;
        if (!m.Has("failWhen") && !m.Has("passWhen") && !m.Has("judge"))
        {
            ctx.Error(m.Node.Start, $"metric '{name}' needs 'failWhen', 'passWhen' or 'judge'; otherwise it can never fail");
        }

        CheckJudgedQuery(m, query, judge);
        if (query is BuiltinQuery builtin)
        {

            foreach (var (key, condition) in new[] { ("failWhen", failWhen), ("passWhen", passWhen) })
            {
                if (condition is null)
                {
                    continue;
                }

                if (builtin.Metric == BuiltinMetric.Latency)
                {
                    ctx.Error(m.PositionOf(key), "the builtin query 'latency' gives raw samples for 'judge'; compare a percentile such as latency_p90 in a condition");
                }
                else if (condition.ValueKind is { } kind && kind != builtin.ValueKind)
                {
                    ctx.Error(m.PositionOf(key), $"'{key}' compares {BuiltinName(builtin.Metric)}, which is {Quantity.KindName(builtin.ValueKind)}, with {Quantity.KindName(kind)} ({condition.Operand})");
                }
            }
        }

        return query is null ? null : new MetricSpec(name, query, failWhen, passWhen, dryRun, judge);
    }

    private static string BuiltinName(BuiltinMetric metric) => metric switch
    {
        BuiltinMetric.RequestRate => "request_rate",
        BuiltinMetric.ErrorRate => "error_rate",
        BuiltinMetric.SuccessRate => "success_rate",
        BuiltinMetric.LatencyP50 => "latency_p50",
        BuiltinMetric.LatencyP90 => "latency_p90",
        BuiltinMetric.LatencyP95 => "latency_p95",
        BuiltinMetric.LatencyP99 => "latency_p99",
        _ => "latency",
    };

    private MetricQuery? ReadProvider(MapReader m)
    {
        switch (m.Choice)
        {
            case "builtin" when m.Object("builtin", "builtin query") is { } b:
                var metric = b.Enum<BuiltinMetric>("query");
                var window = Positive(b, "window");
                return metric is null ? null : new BuiltinQuery(metric.Value, window);
            case "prometheus" when m.Object("prometheus", "prometheus query") is { } p:
                var address = p.Url("address");
                var promql = p.String("query");
                if (promql is not null)
                {
                    CheckPlaceholders(p.Lookup("query")!.Value, Placeholders.Query, "'query'");
                }

                var promTimeout = Positive(p, "timeout") ?? TimeSpan.FromSeconds(5);
                return address is null || promql is null ? null : new PrometheusQuery(address, promql, promTimeout);
            case "web" when m.Object("web", "web query") is { } w:
                var url = w.Url("url");
                if (url is not null)
                {
                    CheckPlaceholders(w.Lookup("url")!.Value, Placeholders.Query, "'url'");
                }

                var jsonPath = w.String("jsonPath");
                if (jsonPath is not null && !jsonPath.StartsWith('$'))
                {
                    ctx.Error(w.PositionOf("jsonPath"), $"'jsonPath' must start with '$', as in $.data.value, got '{jsonPath}'");
                    jsonPath = null;
                }

                var headers = ReadStringMap(w, "headers", "header", null);
                var webTimeout = Positive(w, "timeout") ?? TimeSpan.FromSeconds(5);
                return url is null || jsonPath is null ? null : new WebQuery(url, jsonPath, headers, webTimeout);
            case "command" when m.Object("command", "command query") is { } c:
                var args = c.ScalarList<string>("args");
                var shell = c.Bool("shell") ?? false;
                var value = c.Enum<CommandValueSource>("value") ?? CommandValueSource.Stdout;
                var timeout = Positive(c, "timeout") ?? TimeSpan.FromSeconds(30);
                return args.IsEmpty ? null : new CommandQuery(args, shell, value, timeout);
            default:
                return null;
        }
    }

    // ---------------------------------------------------------------- environments

    private EnvironmentSpec? ReadEnvironment(string name, MapReader m, SourcePosition nameAt)
    {
        var variables = ReadStringMap(m, "variables", "variable", null);
        var overrides = ImmutableArray.CreateBuilder<ServiceOverride>();
        foreach (var (service, value, path) in m.Entries("overrides", "service"))
        {
            serviceRefs.Add((service.Value, service.Start));
            var what = $"override of service '{service.Value}' in environment '{name}'";
            if (MapReader.Open(ctx, value, ManifestShapes.ServiceOverride, what, path, what) is { } o)
            {
                var strategy = o.Object("strategy", $"strategy of {what}") is { } s ? ReadStrategy(s, service.Value) : null;
                var listen = o.Endpoint("listen");
                if (listen is not null)
                {
                    listens.Add((listen, o.PositionOf("listen"), $"service '{service.Value}' in environment '{name}'"));
                }

                overrides.Add(new ServiceOverride(service.Value, o.Int("replicas"), ReadStringMap(o, "env", "environment variable", Placeholders.Process), strategy, listen));
            }
        }

        var approvals = m.Object("approvals", $"approvals of environment '{name}'") is { } a ? ReadApprovals(a) : null;
        var windows = m.List("windows", (node, i, path) =>
        {
            var what = $"window {i + 1} of environment '{name}'";
            return MapReader.Open(ctx, node, ManifestShapes.Window, what, path, what) is { } w ? ReadWindow(w) : null;
        });
        var freezes = m.List("freezes", (node, i, path) =>
        {
            var what = $"freeze {i + 1} of environment '{name}'";
            return MapReader.Open(ctx, node, ManifestShapes.Freeze, what, path, what) is { } f ? ReadFreeze(f, what) : null;
        });
        var promotion = m.Object("promotion", $"promotion of environment '{name}'") is { } p ? ReadPromotion(p) : null;
        var gate = m.String("gate");
        if (gate is not null)
        {
            gateRefs.Add((gate, ctx.Positions.Find(m.Child("gate")) ?? m.PositionOf("gate")));
        }

        var seen = new Dictionary<string, SourcePosition>(StringComparer.Ordinal);
        var checklist = m.List("checklist", (node, i, path) =>
        {
            var what = $"checklist item {i + 1} of environment '{name}'";
            if (MapReader.Open(ctx, node, ManifestShapes.ChecklistItem, what, path, what) is not { } item)
            {
                return null;
            }

            var itemName = item.String("name");
            if (itemName is not null && !seen.TryAdd(itemName, item.PositionOf("name")))
            {
                ctx.Error(item.PositionOf("name"), $"duplicate checklist item '{itemName}' (first defined at {seen[itemName]})");
            }

            return ReadChecklistItem(item, itemName ?? $"#{i + 1}", what);
        });
        return new EnvironmentSpec(name, variables, overrides.ToImmutable(), approvals, windows, freezes, promotion, gate, checklist, m.Bool("critical") ?? false);
    }

    // ---------------------------------------------------------------- incidents and notifications

    private IncidentPolicy ReadIncidents(MapReader m)
    {
        var targets = ImmutableArray.CreateBuilder<KeyValuePair<Incidents.Severity, Incidents.SeverityTargets>>();
        foreach (var (key, value, path) in m.Entries("severities", "severity"))
        {
            // The key is one of P0-P3 (checked against the shape).
            var severity = System.Enum.Parse<Incidents.Severity>(key.Value);
            var what = $"targets of {key.Value}";
            if (MapReader.Open(ctx, value, ManifestShapes.SeverityTargets, what, path, what) is { } t)
            {
                var defaults = Incidents.SeverityTargets.Default(severity);
                var respond = Positive(t, "respond") ?? defaults.Respond;
                var resolve = Positive(t, "resolve") ?? defaults.Resolve;
                if (resolve < respond)
                {
                    ctx.Error(t.PositionOf("resolve"), $"{key.Value} must be resolved no sooner than it is responded to ({DurationSyntax.Format(resolve)} < {DurationSyntax.Format(respond)})");
                }

                targets.Add(new(severity, new Incidents.SeverityTargets(respond, resolve)));
            }
        }

        var rules = m.List("rules", (node, i, path) =>
        {
            var what = $"severity rule {i + 1}";
            if (MapReader.Open(ctx, node, ManifestShapes.SeverityRule, what, path, what) is not { } r)
            {
                return null;
            }

            var environment = r.String("environment");
            if (environment is not null)
            {
                environmentRefs.Add((environment, ctx.Positions.Find(r.Child("environment")) ?? r.PositionOf("environment")));
            }

            return r.Enum<Incidents.Severity>("severity") is { } severity
                ? new SeverityRule(environment, r.Enum<IncidentCause>("cause"), r.Percent("trafficAbove"), severity)
                : null;
        });
        var levels = m.List("escalation", (node, i, path) =>
        {
            var what = $"escalation level {i + 1}";
            if (MapReader.Open(ctx, node, ManifestShapes.EscalationLevel, what, path, what) is not { } l)
            {
                return null;
            }

            var notify = l.ScalarList<string>("notify");
            foreach (var (receiver, at) in notify.Select((r, j) => (r, ctx.Positions.Find(l.Child("notify") + $"[{j}]") ?? l.PositionOf("notify"))))
            {
                receiverRefs.Add((receiver, at));
            }

            return l.String("name") is { } name ? new EscalationLevel(name, l.Duration("after") ?? TimeSpan.Zero, notify) : null;
        });
        return new IncidentPolicy(targets.ToImmutable(), rules, m.Enum<Incidents.Severity>("defaultSeverity") ?? Incidents.Severity.P2, levels);
    }

    private static readonly string[] ReceiverKinds = ["webhook", "slack", "log"];

    private readonly List<string> receiverNames = [];

    private NotificationSpec ReadNotifications(MapReader m)
    {
        receiverNames.AddRange(m.Entries("receivers", "receiver").Select(e => e.Key.Value));
        var receivers = ReadNamed<ReceiverSpec>(m, "receivers", "receiver", ManifestShapes.Receiver, (name, r, _) =>
        {
            var kinds = ReceiverKinds.Where(r.Has).ToList();
            if (kinds.Count != 1)
            {
                ctx.Error(kinds.Count == 0 ? r.Node.Start : r.KeyPositionOf(kinds[1]), $"receiver '{name}' needs exactly one of {string.Join(", ", ReceiverKinds)}" + (kinds.Count == 0 ? string.Empty : $", not {string.Join(" and ", kinds)}"));
                return null;
            }

            return kinds[0] switch
            {
                "webhook" when r.Object("webhook", $"webhook of receiver '{name}'") is { } w && w.Url("url") is { } url => new WebhookReceiverSpec(name, url, ReadStringMap(w, "headers", "header", null)),
                "slack" when r.Object("slack", $"slack of receiver '{name}'") is { } s && s.Url("url") is { } url => new SlackReceiverSpec(name, url),
                "log" when r.Object("log", $"log of receiver '{name}'") is { } l && l.String("path") is { } path => new LogReceiverSpec(name, path),
                _ => null,
            };
        });
        var subscriptions = m.List("subscriptions", (node, i, path) =>
        {
            var what = $"subscription {i + 1}";
            if (MapReader.Open(ctx, node, ManifestShapes.Subscription, what, path, what) is not { } s)
            {
                return null;
            }

            var names = s.ScalarList<string>("receivers");
            foreach (var (receiver, j) in names.Select((r, j) => (r, j)))
            {
                receiverRefs.Add((receiver, ctx.Positions.Find(s.Child("receivers") + $"[{j}]") ?? s.PositionOf("receivers")));
            }

            var environments = s.ScalarList<string>("environments");
            foreach (var (environment, j) in environments.Select((e, j) => (e, j)))
            {
                environmentRefs.Add((environment, ctx.Positions.Find(s.Child("environments") + $"[{j}]") ?? s.PositionOf("environments")));
            }

            return new SubscriptionSpec(s.ScalarList<string>("events"), names, environments);
        });
        var retry = m.Object("retry", "retry of notifications");
        return new NotificationSpec(receivers, subscriptions, retry?.Int("attempts") ?? 5,
            (retry is null ? null : Positive(retry, "backoff")) ?? TimeSpan.FromSeconds(1),
            (retry is null ? null : Positive(retry, "timeout")) ?? TimeSpan.FromSeconds(5),
            ReadStringMap(m, "templates", "template", Placeholders.Notification));
    }

    /// <summary>Receivers named by subscriptions and escalation levels must be defined under notifications.receivers.</summary>
    private void CheckReceivers() =>
        CheckReferences(receiverRefs, receiverNames, "receiver", "notifications.receivers");

    private static readonly string[] CheckKinds = ["tls", "http", "tcp", "command", "disk", "signoff"];

    private ChecklistItem? ReadChecklistItem(MapReader m, string name, string what)
    {
        var kinds = CheckKinds.Where(m.Has).ToList();
        if (kinds.Count != 1)
        {
            ctx.Error(kinds.Count == 0 ? m.Node.Start : m.KeyPositionOf(kinds[1]), $"{what} needs exactly one of {string.Join(", ", CheckKinds)}" + (kinds.Count == 0 ? string.Empty : $", not {string.Join(" and ", kinds)}"));
            return null;
        }

        var kind = kinds[0];
        ChecklistCheck? check = m.Object(kind, $"{kind} of {what}") is not { } c ? null : kind switch
        {
            "tls" => c.Endpoint("address") is { } a ? new TlsCheck(a, c.String("host"), c.Int("minDays") ?? 30, c.String("ca")) : null,
            "http" => c.Url("url") is { } u ? new HttpCheck(u) : null,
            "tcp" => c.Endpoint("address") is { } t ? new TcpCheck(t) : null,
            "command" => c.ScalarList<string>("args") is { IsEmpty: false } args ? new CommandCheck(args, c.Bool("shell") ?? false) : null,
            "disk" => c.String("path") is { } p && c.Percent("minFree") is { } f ? new DiskCheck(p, f) : null,
            _ => c.String("role") is { } r ? new SignOffCheck(r) : null,
        };
        var timeout = Positive(m, "timeout") ?? TimeSpan.FromSeconds(5);
        return check is null ? null : new ChecklistItem(name, check, m.Bool("required") ?? true, timeout);
    }

    // ---------------------------------------------------------------- gates

    /// <summary>The measures of each kind of category, and the kind of value each is.</summary>
    private static readonly Dictionary<GateCategoryKind, Dictionary<string, QuantityKind>> Measures = new()
    {
        [GateCategoryKind.Tests] = new() { ["total"] = QuantityKind.Number, ["passed"] = QuantityKind.Number, ["failed"] = QuantityKind.Number, ["skipped"] = QuantityKind.Number, ["passRate"] = QuantityKind.Ratio },
        [GateCategoryKind.Coverage] = new() { ["lines"] = QuantityKind.Ratio, ["branches"] = QuantityKind.Ratio },
        [GateCategoryKind.Security] = new() { ["critical"] = QuantityKind.Number, ["high"] = QuantityKind.Number, ["medium"] = QuantityKind.Number, ["low"] = QuantityKind.Number, ["total"] = QuantityKind.Number },
        [GateCategoryKind.Custom] = new() { ["value"] = QuantityKind.Number },
    };

    private GateSpec? ReadGate(string name, MapReader m, SourcePosition nameAt)
    {
        double pass = 90, warning = 75;
        if (m.Object("score", $"score of gate '{name}'") is { } score)
        {
            pass = (score.Percent("pass")?.Fraction ?? 0.9) * 100;
            warning = (score.Percent("warning")?.Fraction ?? 0.75) * 100;
            if (warning > pass)
            {
                ctx.Error(score.PositionOf("warning"), string.Create(CultureInfo.InvariantCulture, $"'warning' ({warning:0.##}%) cannot be above 'pass' ({pass:0.##}%)"));
            }
        }

        var categories = ImmutableArray.CreateBuilder<GateCategory>();
        foreach (var (category, value, path) in m.Entries("categories", "category"))
        {
            var what = $"category '{category.Value}' of gate '{name}'";
            if (MapReader.Open(ctx, value, ManifestShapes.GateCategory, what, path, what) is { } c && ReadGateCategory(category.Value, c, what) is { } read)
            {
                categories.Add(read);
            }
        }

        if (m.Lookup("categories") is { Value: YamlMapping { Entries.Length: 0 } } empty)
        {
            ctx.Error(empty.Value.Start, $"gate '{name}' needs at least one category");
        }

        return new GateSpec(name, pass, warning, categories.ToImmutable());
    }

    private GateCategory? ReadGateCategory(string name, MapReader m, string what)
    {
        var kind = name switch
        {
            "tests" => GateCategoryKind.Tests,
            "coverage" => GateCategoryKind.Coverage,
            "security" => GateCategoryKind.Security,
            _ => GateCategoryKind.Custom,
        };
        var jsonPath = m.String("jsonPath");
        if (kind == GateCategoryKind.Custom && jsonPath is null)
        {
            var hint = Suggestions.Closest(name, ["tests", "coverage", "security"]);
            ctx.Error(m.Node.Start, $"{what} is not tests, coverage or security, so it needs 'jsonPath': where its value is in the JSON file given with --json {name}=FILE"
                + (hint is null ? string.Empty : $" (or did you mean '{hint}'?)"));
        }
        else if (kind != GateCategoryKind.Custom && jsonPath is not null)
        {
            ctx.Error(m.PositionOf("jsonPath"), $"'jsonPath' is for custom categories; {name} reads its own reports");
        }

        var measures = Measures[kind];
        var criteria = m.List("criteria", (node, i, path) =>
        {
            var label = $"criterion {i + 1} of {what}";
            if (MapReader.Open(ctx, node, ManifestShapes.GateCriterion, label, path, label) is not { } c)
            {
                return null;
            }

            var measure = c.String("measure");
            if (measure is not null && !measures.ContainsKey(measure))
            {
                var hint = Suggestions.Closest(measure, measures.Keys);
                ctx.Error(ctx.Positions.Find(c.Child("measure")) ?? c.PositionOf("measure"),
                    $"unknown measure '{measure}' for {name}" + (hint is null ? $"; it has {string.Join(", ", measures.Keys)}" : $"; did you mean '{hint}'?"));
                return null;
            }

            var failWhen = c.Condition("failWhen");
            var warnWhen = c.Condition("warnWhen");
            if (!c.Has("failWhen") && !c.Has("warnWhen"))
            {
                ctx.Error(c.Node.Start, $"{label} needs 'failWhen' or 'warnWhen'; otherwise it always passes");
            }

            foreach (var (key, condition) in new[] { ("failWhen", failWhen), ("warnWhen", warnWhen) })
            {
                if (kind != GateCategoryKind.Custom && measure is not null && condition?.ValueKind is { } k && k != measures[measure])
                {
                    ctx.Error(c.PositionOf(key), $"'{key}' compares {measure}, which is {Quantity.KindName(measures[measure])}, with {Quantity.KindName(k)} ({condition.Operand})");
                }
            }

            return measure is null ? null : new GateCriterion(measure, failWhen, warnWhen, c.Bool("blocking") ?? false, c.Bool("key") ?? false, c.Number("weight") ?? 1);
        });
        return criteria.IsEmpty ? null : new GateCategory(name, kind, m.Number("weight") ?? 1, m.Bool("optional") ?? false, jsonPath, criteria);
    }

    private static ApprovalPolicy ReadApprovals(MapReader m) => new(
        m.Int("required") ?? 1,
        m.ScalarList<string>("from"),
        m.Bool("noSelfApproval") ?? true,
        m.Duration("expiry"));

    private DeploymentWindow? ReadWindow(MapReader m)
    {
        var days = m.ScalarList<string>("days").Select(d => d switch
        {
            "Mon" => IsoDayOfWeek.Monday,
            "Tue" => IsoDayOfWeek.Tuesday,
            "Wed" => IsoDayOfWeek.Wednesday,
            "Thu" => IsoDayOfWeek.Thursday,
            "Fri" => IsoDayOfWeek.Friday,
            "Sat" => IsoDayOfWeek.Saturday,
            _ => IsoDayOfWeek.Sunday,
        }).Distinct().ToImmutableArray();
        var from = m.TimeOfDay("from");
        var to = m.TimeOfDay("to");
        var zone = m.Zone("zone") ?? DateTimeZone.Utc;
        if (from is { } f && to is { } t && f == t)
        {
            ctx.Error(m.PositionOf("to"), $"the window starts and ends at {f.ToString("HH:mm", CultureInfo.InvariantCulture)}; give it a length");
            return null;
        }

        return days.IsEmpty || from is null || to is null ? null : new DeploymentWindow(days, from.Value, to.Value, zone);
    }

    private FreezeSpec? ReadFreeze(MapReader m, string what)
    {
        var monthlyReader = m.Object("monthly", $"monthly days of {what}");
        MonthlyDays? monthly = monthlyReader is not null && monthlyReader.Int("fromDay") is { } fd && monthlyReader.Int("toDay") is { } td ? new MonthlyDays(fd, td) : null;
        var from = m.Date("from");
        var to = m.Date("to");
        var zone = m.Zone("zone") ?? DateTimeZone.Utc;
        var reason = m.String("reason");
        var running = m.Enum<FreezeRunningRollouts>("running") ?? FreezeRunningRollouts.Finish;
        if (m.Has("monthly") && (m.Has("from") || m.Has("to")))
        {
            ctx.Error(m.KeyPositionOf(m.Has("from") ? "from" : "to"), $"{what} is either 'monthly' or a 'from'/'to' date range, not both");
            return null;
        }

        if (!m.Has("monthly"))
        {
            if (!m.Has("from") || !m.Has("to"))
            {
                ctx.Error(m.Node.Start, $"{what} needs 'monthly', or both 'from' and 'to'");
                return null;
            }

            if (from is { } a && to is { } b && b < a)
            {
                ctx.Error(m.PositionOf("to"), $"the freeze ends ({b.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)}) before it starts ({a.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)})");
                return null;
            }

            return from is null || to is null ? null : new FreezeSpec(null, from, to, zone, reason, running);
        }

        return monthly is null ? null : new FreezeSpec(monthly, null, null, zone, reason, running);
    }

    private static PromotionSpec? ReadPromotion(MapReader m)
    {
        var from = m.String("from");
        return from is null ? null : new PromotionSpec(from, m.Duration("soak") ?? TimeSpan.Zero, m.Bool("auto") ?? false);
    }

    // ---------------------------------------------------------------- cross-references

    private void CheckReferences(List<(string Name, SourcePosition At)> refs, IEnumerable<string> defined, string what, string section)
    {
        var names = defined.ToList();
        foreach (var (name, at) in refs.Where(r => !names.Contains(r.Name)))
        {
            var hint = Suggestions.Closest(name, names);
            ctx.Error(at, $"unknown {what} '{name}'" + (hint is null ? $"; define it under '{section}'" : $"; did you mean '{hint}'?"));
        }
    }

    private void CheckListenAddresses()
    {
        for (var i = 0; i < listens.Count; i++)
        {
            var first = listens.Take(i).FirstOrDefault(l =>
                l.Address.Port == listens[i].Address.Port && string.Equals(l.Address.Host, listens[i].Address.Host, StringComparison.OrdinalIgnoreCase));
            if (first.Owner is not null)
            {
                ctx.Error(listens[i].At, $"{listens[i].Address} is already the address of {first.Owner} (at {first.At})");
            }
        }
    }

    /// <summary>Environments on one host cannot share a service's front door: said at validation, refused at deploy.</summary>
    private void CheckSharedFrontDoors(ImmutableArray<ServiceSpec> services, ImmutableArray<EnvironmentSpec> environments)
    {
        foreach (var service in services)
        {
            var sharing = environments.Where(e => e.Overrides.FirstOrDefault(o => o.Service == service.Name)?.Listen is null).Select(e => e.Name).ToList();
            if (sharing.Count > 1 && listens.FirstOrDefault(l => l.Owner == $"service '{service.Name}'") is { Owner: not null } at)
            {
                ctx.Warning(at.At, $"service '{service.Name}' has the front door {service.Listen} in {string.Join(", ", sharing)}: environments on one host cannot share it, "
                    + $"so a deploy to a second one is refused; give each its own with environments.ENV.overrides.{service.Name}.listen");
            }
        }
    }

    private void CheckPromotions(ImmutableArray<EnvironmentSpec> environments)
    {
        var byName = environments.ToDictionary(e => e.Name, StringComparer.Ordinal);
        var reported = new HashSet<string>(StringComparer.Ordinal);
        foreach (var env in environments.Where(e => e.Promotion is not null))
        {
            var at = ctx.Positions.Find($"environments.{env.Name}.promotion.from") ?? SourcePosition.Start;
            var from = env.Promotion!.From;
            if (from == env.Name)
            {
                ctx.Error(at, $"environment '{env.Name}' cannot promote from itself");
                continue;
            }

            if (!byName.ContainsKey(from))
            {
                var hint = Suggestions.Closest(from, byName.Keys);
                ctx.Error(at, $"unknown environment '{from}'" + (hint is null ? "; define it under 'environments'" : $"; did you mean '{hint}'?"));
                continue;
            }

            var chain = new List<string> { env.Name };
            for (var current = from; current is not null; current = byName.GetValueOrDefault(current)?.Promotion?.From)
            {
                if (current == env.Name)
                {
                    if (chain.TrueForAll(reported.Add))
                    {
                        ctx.Error(at, $"promotion forms a cycle: {string.Join(" <- ", chain.Append(env.Name))}");
                    }

                    break;
                }

                if (chain.Contains(current) || !byName.ContainsKey(current))
                {
                    break;
                }

                chain.Add(current);
            }
        }
    }
}
