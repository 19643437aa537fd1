using System.Text.Json;

namespace Gantry.Client;

/// <summary>An answer shown as it came, indented: read as a document, not as types (building the types' metadata is most of a short command's time). Shared with the native client.</summary>
internal static class JsonText
{
    public static string Indent(string json)
    {
        using var document = JsonDocument.Parse(json);
        using var buffer = new MemoryStream();
        using (var indented = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            document.WriteTo(indented);
        }

        return System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }
}
