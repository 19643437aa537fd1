using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Gantry.Core.Manifest.Values;

/// <summary>The manifest's JSON paths (<c>$.data.value</c>, <c>$.items[0].p95</c>, <c>$['a b']</c>): the web metric provider and custom gate categories read numbers with them.</summary>
public static partial class JsonPick
{
    [GeneratedRegex(@"^\$?(?:\.?(?<name>[A-Za-z_][\w-]*)|\[(?<index>\d+)\]|\['(?<quoted>[^']+)'\])")]
    private static partial Regex Step();

    /// <summary>Follows a JSON path of names and indexes; a number, or a string holding one, is the value.</summary>
    public static double? Number(JsonElement root, string path)
    {
        var current = root;
        var rest = path.Trim();
        rest = rest.StartsWith('$') ? rest[1..] : rest;
        while (rest.Length > 0)
        {
            var m = Step().Match(rest);
            if (!m.Success || m.Length == 0)
            {
                return null;
            }

            if (m.Groups["index"].Success)
            {
                var index = int.Parse(m.Groups["index"].Value, CultureInfo.InvariantCulture);
                if (current.ValueKind != JsonValueKind.Array || index >= current.GetArrayLength())
                {
                    return null;
                }

                current = current[index];
            }
            else
            {
                var name = m.Groups["name"].Success ? m.Groups["name"].Value : m.Groups["quoted"].Value;
                if (current.ValueKind != JsonValueKind.Object || !current.TryGetProperty(name, out current))
                {
                    return null;
                }
            }

            rest = rest[m.Length..];
        }

        return current.ValueKind switch
        {
            JsonValueKind.Number => current.GetDouble(),
            JsonValueKind.String when double.TryParse(current.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var d) => d,
            _ => null,
        };
    }
}
