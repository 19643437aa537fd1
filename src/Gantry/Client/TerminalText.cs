using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace Gantry.Client;

/// <summary>
/// What the server says is shown to a person on a terminal: control characters (line breaks, carriage returns,
/// ANSI escapes) and bidirectional overrides inside a value are written as visible escapes, so that a reason, a
/// title or a log line can never forge lines of <c>gantry audit</c> or <c>gantry status</c>, nor drive the terminal.
/// </summary>
internal static class TerminalText
{
    /// <summary>The text with every control character and bidi override replaced by a visible escape.</summary>
    public static string Escape(string text)
    {
        if (!text.Any(NeedsEscape))
        {
            return text;
        }

        var result = new StringBuilder(text.Length + 8);
        foreach (var c in text)
        {
            result.Append(c switch
            {
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                '\u001b' => "\\e",
                _ when NeedsEscape(c) => string.Create(CultureInfo.InvariantCulture, $"\\u{(int)c:X4}"),
                _ => c.ToString(),
            });
        }

        return result.ToString();
    }

    private static bool NeedsEscape(char c) => char.IsControl(c) || c is >= '\u202A' and <= '\u202E' or >= '\u2066' and <= '\u2069';

    /// <summary>Every string value in a JSON answer escaped (names too), before it is turned into records to show.</summary>
    public static string EscapeJson(string json)
    {
        if (!json.Contains('\\', StringComparison.Ordinal) && !json.Any(c => c is >= '\u202A' and <= '\u202E' or >= '\u2066' and <= '\u2069'))
        {
            // No escape sequence at all: JSON cannot hold a raw control character, so there is nothing to do.
            return json;
        }

        var node = JsonNode.Parse(json);
        return node is null ? json : Walk(node)?.ToJsonString() ?? json;
    }

    /// <summary>Escapes every string value in place: containers are walked, only string leaves are replaced.</summary>
    private static JsonNode? Walk(JsonNode node)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (key, value) in obj.ToList())
                {
                    if (value is JsonValue leaf && leaf.TryGetValue<string>(out var text))
                    {
                        obj[key] = JsonValue.Create(Escape(text));
                    }
                    else if (value is not null)
                    {
                        Walk(value);
                    }
                }

                return obj;
            case JsonArray array:
                for (var i = 0; i < array.Count; i++)
                {
                    if (array[i] is JsonValue leaf && leaf.TryGetValue<string>(out var text))
                    {
                        array[i] = JsonValue.Create(Escape(text));
                    }
                    else if (array[i] is { } item)
                    {
                        Walk(item);
                    }
                }

                return array;
            case JsonValue value when value.TryGetValue<string>(out var text):
                return JsonValue.Create(Escape(text));
            default:
                return node;
        }
    }
}
