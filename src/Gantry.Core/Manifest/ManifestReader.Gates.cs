using System.Collections.Immutable;
using System.Globalization;
using Gantry.Core.Manifest.Schema;
using Gantry.Core.Manifest.Values;
using Gantry.Core.Manifest.Yaml;
using NodaTime;

namespace Gantry.Core.Manifest;

/// <summary>Reading quality gates and pre-deployment checklists.</summary>
internal sealed partial class ManifestReader
{
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
}
