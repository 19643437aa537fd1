using System.Globalization;
using Gantry.Core.Manifest.Schema;
using Gantry.Core.Manifest.Values;

namespace Gantry.Core.Manifest;

/// <summary>Reading analysis templates, metrics and their providers.</summary>
internal sealed partial class ManifestReader
{
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
        BuiltinMetric.Cpu => "cpu",
        BuiltinMetric.Memory => "memory",
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
}
