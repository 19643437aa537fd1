using System.Collections.Immutable;
using System.Globalization;
using System.Text.RegularExpressions;
using Gantry.Core.Manifest.Schema;
using Gantry.Core.Manifest.Yaml;
using Gantry.Core.Traffic;

namespace Gantry.Core.Manifest;

/// <summary>Reading strategies: rolling, blue-green, canary steps, header routes and mirrors.</summary>
internal sealed partial class ManifestReader
{
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
            CheckRouterCan(result, step, what);
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

    /// <summary>Refuses a step the configured traffic router cannot carry out, at the step's key.</summary>
    private void CheckRouterCan(CanaryStep? step, MapReader m, string what)
    {
        var (key, needs) = step switch
        {
            SetWeightStep { Weight: > 0 and < 100 } => ("setWeight", RouterCapabilities.Weights),
            SetHeaderRouteStep h => ("setHeaderRoute", h.Matches.Aggregate(RouterCapabilities.None, (all, match) => all | RouterCapability.For(match))),
            SetMirrorStep { Percent: > 0 } => ("setMirror", RouterCapabilities.Mirroring),
            _ => (string.Empty, RouterCapabilities.None),
        };
        if (needs != RouterCapabilities.None)
        {
            RequireRouter(needs, m.KeyPositionOf(key), what);
        }
    }

    /// <summary>An error for every capability in <paramref name="needs"/> the configured router lacks.</summary>
    private void RequireRouter(RouterCapabilities needs, SourcePosition at, string what)
    {
        foreach (var capability in Enum.GetValues<RouterCapabilities>().Where(c => c != RouterCapabilities.None && needs.HasFlag(c) && !ctx.Router.HasFlag(c)))
        {
            ctx.Error(at, $"{what} needs {RouterCapability.Describe(capability)}, which the configured traffic router cannot do");
        }
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
}
