using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Gantry.Core.Manifest.Schema;

/// <summary>Writes the JSON Schema (draft 2020-12) of the manifest from <see cref="ManifestShapes"/>.</summary>
public static class JsonSchemaWriter
{
    public static string Write()
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteString("$schema", "https://json-schema.org/draft/2020-12/schema");
            WriteShapeBody(w, ManifestShapes.Root);
            w.WriteStartObject("$defs");
            foreach (var shape in ManifestShapes.All.Where(s => s != ManifestShapes.Root))
            {
                w.WriteStartObject(shape.Name);
                WriteShapeBody(w, shape);
                w.WriteEndObject();
            }

            w.WriteEndObject();
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray()).ReplaceLineEndings("\n") + "\n";
    }

    private static void WriteShapeBody(Utf8JsonWriter w, Shape shape)
    {
        w.WriteString("title", shape.Title);
        w.WriteString("description", shape.Description);
        w.WriteString("type", "object");
        w.WriteStartObject("properties");
        foreach (var field in shape.Fields)
        {
            w.WriteStartObject(field.Key);
            w.WriteString("description", field.Default is null ? field.Description : $"{field.Description} Default: {field.Default}.");
            WriteType(w, field.Type);
            w.WriteEndObject();
        }

        w.WriteEndObject();
        if (shape == ManifestShapes.Root)
        {
            // Extension fields hold YAML anchors for merge keys.
            w.WriteStartObject("patternProperties");
            w.WriteStartObject("^" + MapReader.ExtensionPrefix);
            w.WriteString("description", "Extension field, ignored by Gantry: a place for YAML anchors.");
            w.WriteEndObject();
            w.WriteEndObject();
        }

        w.WriteBoolean("additionalProperties", false);
        var required = shape.Fields.Where(f => f.Required).Select(f => f.Key).ToList();
        if (required.Count > 0)
        {
            w.WriteStartArray("required");
            required.ForEach(w.WriteStringValue);
            w.WriteEndArray();
        }

        if (shape.ExactlyOne)
        {
            w.WriteNumber("minProperties", 1);
            w.WriteNumber("maxProperties", 1);
        }
    }

    private static void WriteType(Utf8JsonWriter w, FieldType type)
    {
        switch (type)
        {
            case ObjectType o:
                w.WriteString("$ref", o.Shape == ManifestShapes.Root ? "#" : "#/$defs/" + o.Shape.Name);
                break;
            case ListType l:
                w.WriteString("type", "array");
                if (l.MinItems > 0)
                {
                    w.WriteNumber("minItems", l.MinItems);
                }

                w.WriteStartObject("items");
                WriteType(w, l.Item);
                w.WriteEndObject();
                break;
            case MapType m:
                w.WriteString("type", "object");
                w.WriteStartObject("propertyNames");
                WriteType(w, m.Key);
                w.WriteEndObject();
                w.WriteStartObject("additionalProperties");
                WriteType(w, m.Value);
                w.WriteEndObject();
                break;
            case OneOfType one:
                w.WriteStartArray("oneOf");
                foreach (var alternative in one.Alternatives)
                {
                    w.WriteStartObject();
                    WriteType(w, alternative);
                    w.WriteEndObject();
                }

                w.WriteEndArray();
                break;
            case IntegerType i:
                w.WriteString("type", "integer");
                w.WriteNumber("minimum", i.Min);
                w.WriteNumber("maximum", i.Max);
                break;
            case NumberType n:
                w.WriteString("type", "number");
                w.WriteNumber("minimum", n.Min);
                w.WriteNumber("maximum", n.Max);
                break;
            case BooleanType:
                w.WriteString("type", "boolean");
                break;
            case EnumType e:
                w.WriteString("type", "string");
                w.WriteStartArray("enum");
                foreach (var v in e.Values)
                {
                    w.WriteStringValue(v);
                }

                w.WriteEndArray();
                break;
            case WeightType:
                w.WriteStartArray("oneOf");
                w.WriteRawValue("""{ "type": "integer", "minimum": 0, "maximum": 100 }""");
                w.WriteRawValue("""{ "type": "string", "pattern": "^(100|[1-9]?[0-9])%$" }""");
                w.WriteEndArray();
                break;
            case CountOrPercentType:
                w.WriteStartArray("oneOf");
                w.WriteRawValue("""{ "type": "integer", "minimum": 0 }""");
                w.WriteRawValue("""{ "type": "string", "pattern": "^[0-9]+(\\.[0-9]+)?%$" }""");
                w.WriteEndArray();
                break;
            default:
                w.WriteString("type", "string");
                if (Pattern(type) is { } pattern)
                {
                    w.WriteString("pattern", pattern);
                }

                if (type is DateType)
                {
                    w.WriteString("format", "date");
                }
                else if (type is UrlType)
                {
                    w.WriteString("format", "uri");
                }

                break;
        }
    }

    private static string? Pattern(FieldType type) => type switch
    {
        NameType => "^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$",
        StringType s when s.Expected.StartsWith("a variable name", StringComparison.Ordinal) => "^[A-Za-z_][A-Za-z0-9_]*$",
        DurationType => "^([0-9]+(\\.[0-9]+)?(ms|s|m|h|d))+$",
        PercentType => "^[0-9]+(\\.[0-9]+)?%$",
        ConditionType or GateConditionType => "^\\s*(>=|<=|==|!=|>|<)\\s*\\S",
        EndpointType { Schemes: true } => "^(https?://)?(\\[[0-9A-Fa-f:.]+\\]|[A-Za-z0-9.-]+):[0-9]{1,5}$",
        EndpointType => "^(\\[[0-9A-Fa-f:.]+\\]|[A-Za-z0-9.-]+):[0-9]{1,5}$",
        TimeOfDayType => "^([01][0-9]|2[0-3]):[0-5][0-9]$",
        DateType => "^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
        _ => null,
    } is { } p ? p.ToString(CultureInfo.InvariantCulture) : null;
}
