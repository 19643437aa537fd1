using System.Text.Json;
using System.Text.Json.Serialization;
using Gantry.Core.Rollouts;

namespace Gantry.Storage.Secrets;

/// <summary>Writes every release (of a rollout, of its sets, of a queued deploy) with its secret values sealed, and reads them back opened.</summary>
internal sealed class SealedReleaseConverter(SecretBox box, JsonSerializerOptions plain) : JsonConverter<Release>
{
    public override Release? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        JsonSerializer.Deserialize<Release>(ref reader, plain) is { } release ? box.Open(release) : null;

    public override void Write(Utf8JsonWriter writer, Release value, JsonSerializerOptions options) =>
        JsonSerializer.Serialize(writer, box.Seal(value), plain);

    /// <summary>The store's JSON options: the project's, with releases sealed by <paramref name="box"/>.</summary>
    public static JsonSerializerOptions Options(SecretBox box)
    {
        var options = new JsonSerializerOptions(GantryJson.Options);
        options.Converters.Add(new SealedReleaseConverter(box, GantryJson.Options));
        return options;
    }
}
