using System.Globalization;
using System.Text.Json;
using Gantry.Core;
using Gantry.Core.Manifest;
using Gantry.Core.Manifest.Values;
using Gantry.Core.Traffic;

namespace Gantry.Proxy.Control;

/// <summary>
/// Reads the table a router left on disk (written with <see cref="Core.Rollouts.GantryJson"/>'s shape) by walking a
/// <see cref="JsonDocument"/>, not with the serializer: the serializer's metadata for these records is made by
/// reflection and its generic converters compiled when first used, 110-143 ms of a router's start on this machine
/// against 50-70 ms for reading the file and walking it (bench/README "A router that starts sooner"). The tests write
/// every field with the serializer and read it back here.
/// </summary>
public static class SavedTableReader
{
    /// <summary>The table in <paramref name="json"/>; <see cref="JsonException"/> when it is not one, with the path of what is wrong.</summary>
    public static RouteTable Read(string json)
    {
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        return At("$", () => new RouteTable(Required(root, "version").GetInt64(), List(root, "routes", Route),
            Optional(root, "published", v => v.GetInt64()), Optional(root, "follows", v => v.GetBoolean())));
    }

    private static TrafficRoute Route(JsonElement e) => new(
        Text(e, "name"),
        EndpointOf(Required(e, "listen")),
        List(e, "backends", b => new TrafficBackend(Text(b, "name"), Required(b, "weight").GetInt32(), List(b, "instances", EndpointOf))),
        List(e, "headerRoutes", h => new TrafficHeaderRoute(List(h, "match", Match), Text(h, "backend"))),
        Optional(e, "mirror", m => new TrafficMirror(Text(m, "backend"), Required(m, "percent").GetInt32(), List(m, "match", Match))),
        Optional(e, "sticky", s => new StickySpec(Optional(s, "cookie", v => v.GetString()), Optional(s, "header", v => v.GetString()))),
        Optional(e, "drain", Duration),
        Optional(e, "rateLimit", r => new RateLimit(Required(r, "requestsPerSecond").GetInt32(), Required(r, "burst").GetInt32())),
        Optional(e, "maintenance", m => m.GetString()),
        Optional(e, "pause", p => (TimeSpan?)Duration(p)),
        Optional(e, "tls", t => new ServiceTls(Text(t, "certificateFile"), Text(t, "keyFile"))));

    private static RouteMatch Match(JsonElement e) => new(
        Enum.Parse<MatchSource>(Text(e, "source"), ignoreCase: true), Text(e, "name"), Enum.Parse<MatchKind>(Text(e, "kind"), ignoreCase: true), Text(e, "value"));

    private static Endpoint EndpointOf(JsonElement e) => new(Text(e, "host"), Required(e, "port").GetInt32());

    /// <summary>A <see cref="TimeSpan"/> as the serializer writes it: <c>[-][d.]hh:mm:ss[.fffffff]</c>.</summary>
    private static TimeSpan Duration(JsonElement e) => TimeSpan.ParseExact(e.GetString() ?? string.Empty, "c", CultureInfo.InvariantCulture);

    private static string Text(JsonElement e, string name) => Required(e, name).GetString() ?? throw new JsonException($"'{name}' is null");

    private static JsonElement Required(JsonElement e, string name) =>
        e.TryGetProperty(name, out var value) ? value : throw new JsonException($"'{name}' is missing");

    /// <summary>A value that may be missing or null (the default then, as the serializer reads it).</summary>
    private static T? Optional<T>(JsonElement e, string name, Func<JsonElement, T> read) =>
        e.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? At(name, () => read(value)) : default;

    /// <summary>A list; missing or null is empty, as the serializer reads a table that an older router wrote without it.</summary>
    private static ValueList<T> List<T>(JsonElement e, string name, Func<JsonElement, T> read)
    {
        if (!e.TryGetProperty(name, out var array) || array.ValueKind == JsonValueKind.Null)
        {
            return [];
        }

        var items = new List<T>();
        var i = 0;
        foreach (var item in array.EnumerateArray())
        {
            var element = item;
            items.Add(At($"{name}[{i++}]", () => read(element)));
        }

        return [.. items];
    }

    /// <summary>Runs <paramref name="read"/>, naming <paramref name="where"/> in what it throws: a wrong kind, a missing property, a bad value.</summary>
    private static T At<T>(string where, Func<T> read)
    {
        try
        {
            return read();
        }
        catch (Exception ex) when (ex is InvalidOperationException or FormatException or ArgumentException or OverflowException)
        {
            throw new JsonException($"{where}: {ex.Message}", ex);
        }
        catch (JsonException ex) when (where != "$")
        {
            throw new JsonException($"{where}.{ex.Message}", ex);
        }
    }
}
