using System.Globalization;
using System.Text;

namespace Gantry.Core.Manifest.Schema;

/// <summary>Writes the manifest reference (docs/manifest-reference.md) from <see cref="ManifestShapes"/>.</summary>
public static class MarkdownReferenceWriter
{
    public static string Write()
    {
        var sb = new StringBuilder();
        sb.Append("# Manifest reference\n\n")
          .Append("Every key of `gantry.yaml`, generated from the declarations the loader enforces ")
          .Append("(`gantry schema --format markdown`). The README's \"Writing a manifest\" guide explains them with examples.\n");
        foreach (var shape in ManifestShapes.All)
        {
            sb.Append(CultureInfo.InvariantCulture, $"\n<a id=\"{shape.Name}\"></a>\n\n## {shape.Title}\n\n{shape.Description}\n\n");
            if (shape.ExactlyOne)
            {
                sb.Append("Exactly one of these keys is given.\n\n");
            }

            sb.Append("| Key | Type | Default | Meaning |\n| --- | --- | --- | --- |\n");
            foreach (var f in shape.Fields)
            {
                var fallback = f.Required ? "required" : f.Default ?? string.Empty;
                sb.Append(CultureInfo.InvariantCulture, $"| `{f.Key}` | {Describe(f.Type)} | {fallback} | {f.Description} |\n");
            }
        }

        return sb.ToString();
    }

    private static string Describe(FieldType type) => type switch
    {
        ObjectType o => $"[{o.Shape.Title}](#{o.Shape.Name})",
        ListType l => $"list of {Describe(l.Item)}" + (l.MinItems > 0 ? string.Create(CultureInfo.InvariantCulture, $" (at least {l.MinItems})") : string.Empty),
        MapType m => $"map of {Describe(m.Key)} to {Describe(m.Value)}",
        OneOfType one => string.Join(" or ", one.Alternatives.Select(Describe)),
        EnumType e => string.Join(", ", e.Values.Select(v => $"`{v}`")),
        IntegerType i when i.Min == i.Max => string.Create(CultureInfo.InvariantCulture, $"integer {i.Min}"),
        IntegerType i => string.Create(CultureInfo.InvariantCulture, $"integer {i.Min} to {i.Max}"),
        NumberType n => string.Create(CultureInfo.InvariantCulture, $"number {n.Min} to {n.Max}"),
        NameType => "name",
        BooleanType => "boolean",
        DurationType => "duration",
        PercentType => "percentage",
        WeightType => "weight (0-100 or %)",
        CountOrPercentType => "count or percentage",
        ConditionType or GateConditionType => "condition",
        EndpointType => "address",
        UrlType => "URL",
        TimeOfDayType => "time of day (HH:mm)",
        DateType => "date (YYYY-MM-DD)",
        ZoneType => "IANA time zone",
        StringType s when s.Expected.StartsWith("a variable name", StringComparison.Ordinal) => "variable name",
        _ => "string",
    };
}
