using System.Collections.Immutable;
using Gantry.Core.Manifest.Schema;

namespace Gantry.Core.Manifest;

/// <summary>Reading environments: overrides, windows, freezes, promotion, approvals.</summary>
internal sealed partial class ManifestReader
{
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

                var runtime = ReadRuntimeSection(o, what);
                if (RuntimeKeysOf(o) is { Count: > 1 } keys)
                {
                    ctx.Error(service.Start, $"{what} has both {string.Join(" and ", keys.Select(k => $"'{k}'"))}: give at most one runtime section");
                }

                overrides.Add(new ServiceOverride(service.Value, o.Int("replicas"), ReadStringMap(o, "env", "environment variable", Placeholders.Process), strategy, listen, runtime));
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
}
