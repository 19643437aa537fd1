using System.Collections.Immutable;
using Gantry.Core.Manifest.Schema;
using Gantry.Core.Manifest.Values;
using Gantry.Core.Manifest.Yaml;
using NodaTime;

namespace Gantry.Core.Manifest;

/// <summary>
/// Reads one mapping against its <see cref="Shape"/>: refuses unknown keys (with a suggestion),
/// reports missing required keys and "exactly one of" violations, and reads typed values.
/// </summary>
internal sealed class MapReader
{
    private readonly ReadContext ctx;
    private readonly Dictionary<string, YamlEntry> entries = new(StringComparer.Ordinal);

    public MapReader(ReadContext ctx, YamlMapping node, Shape shape, string what, string path)
    {
        this.ctx = ctx;
        Node = node;
        Shape = shape;
        What = what;
        Path = path;
        YamlEntry? firstChoice = null;
        var suggested = new HashSet<string>(StringComparer.Ordinal);
        foreach (var entry in node.Entries)
        {
            var key = entry.Key.Value;
            if (shape == ManifestShapes.Root && key.StartsWith(ExtensionPrefix, StringComparison.Ordinal))
            {
                // Extension fields (x-defaults: &defaults ...) hold YAML anchors for merge keys; Gantry ignores them.
                continue;
            }

            if (shape.Find(key) is null)
            {
                var hint = Suggestions.Closest(key, shape.Keys);
                if (hint is not null)
                {
                    suggested.Add(hint);
                }

                ctx.Error(entry.Key.Start, $"unknown key '{key}' in {what}" + (hint is null
                    ? $"; expected {(shape.ExactlyOne ? "one of" : "keys from")}: {string.Join(", ", shape.Keys)}"
                    : $"; did you mean '{hint}'?"));
                continue;
            }

            if (shape.ExactlyOne && firstChoice is not null)
            {
                ctx.Error(entry.Key.Start, $"{what} takes exactly one of {string.Join(", ", shape.Keys)}; '{firstChoice.Key.Value}' and '{key}' are both given");
                continue;
            }

            firstChoice ??= entry;
            entries[key] = entry;
            ctx.Positions.Record(Child(key), entry.Value.Start);
            ctx.Positions.Record(Child(key) + "@key", entry.Key.Start);
        }

        if (shape.ExactlyOne && node.Entries.Length == 0)
        {
            ctx.Error(node.Start, $"{what} needs one of: {string.Join(", ", shape.Keys)}");
        }

        foreach (var field in shape.Fields.Where(f => f.Required && !entries.ContainsKey(f.Key) && !suggested.Contains(f.Key)))
        {
            ctx.Error(node.Start, $"{what} is missing the required key '{field.Key}'");
        }
    }

    /// <summary>Top-level keys starting with this are extension fields, ignored by Gantry.</summary>
    public const string ExtensionPrefix = "x-";

    public YamlMapping Node { get; }

    public Shape Shape { get; }

    public string What { get; }

    public string Path { get; }

    public string Child(string key) => Path.Length == 0 ? key : Path + "." + key;

    /// <summary>The single key given, for "exactly one of" shapes.</summary>
    public string? Choice => entries.Keys.FirstOrDefault();

    public bool Has(string key) => Lookup(key) is not null;

    public YamlEntry? Lookup(string key)
    {
        var field = Shape.Find(key) ?? throw new InvalidOperationException($"'{key}' is not declared in shape '{Shape.Name}'");
        ctx.Consumed(Shape, field.Key);
        return entries.TryGetValue(key, out var e) ? e : null;
    }

    public SourcePosition PositionOf(string key) => Lookup(key)?.Value.Start ?? Node.Start;

    public SourcePosition KeyPositionOf(string key) => Lookup(key)?.Key.Start ?? Node.Start;

    private FieldType TypeOf(string key) => Shape.Find(key)!.Type;

    private T? Scalar<T>(string key)
        where T : struct
    {
        var entry = Lookup(key);
        return entry is null ? null : ctx.ReadScalar(TypeOf(key), entry.Value, $"'{key}'") is T v ? v : null;
    }

    private T? Reference<T>(string key)
        where T : class
    {
        var entry = Lookup(key);
        return entry is null ? null : ctx.ReadScalar(TypeOf(key), entry.Value, $"'{key}'") as T;
    }

    public string? String(string key) => Reference<string>(key);

    public Uri? Url(string key) => Reference<Uri>(key);

    public Endpoint? Endpoint(string key) => Reference<Endpoint>(key);

    /// <summary>The scheme written in front of an address (<c>https</c>, <c>http</c>), or null.</summary>
    public string? SchemeOf(string key) => Lookup(key)?.Value is YamlScalar s ? EndpointType.SchemeOf(s.Value).Scheme : null;

    public Condition? Condition(string key) => Reference<Condition>(key);

    public DateTimeZone? Zone(string key) => Reference<DateTimeZone>(key);

    public int? Int(string key) => Scalar<int>(key);

    public int? Weight(string key) => Scalar<int>(key);

    public double? Number(string key) => Scalar<double>(key);

    public bool? Bool(string key) => Scalar<bool>(key);

    public TimeSpan? Duration(string key) => Scalar<TimeSpan>(key);

    public Percentage? Percent(string key) => Scalar<Percentage>(key);

    public CountOrPercent? CountOrPercent(string key) => Scalar<CountOrPercent>(key);

    public LocalTime? TimeOfDay(string key) => Scalar<LocalTime>(key);

    public LocalDate? Date(string key) => Scalar<LocalDate>(key);

    /// <summary>An enum field, mapped from its manifest spelling to <typeparamref name="TEnum"/> ignoring case.</summary>
    public TEnum? Enum<TEnum>(string key)
        where TEnum : struct, Enum =>
        Reference<string>(key) is { } s ? System.Enum.Parse<TEnum>(s.Replace("_", string.Empty, StringComparison.Ordinal), ignoreCase: true) : null;

    /// <summary>A nested mapping field; null (after reporting) when absent or not a mapping.</summary>
    public MapReader? Object(string key, string what)
    {
        var entry = Lookup(key);
        if (entry is null)
        {
            return null;
        }

        if (TypeOf(key) is not ObjectType ot)
        {
            throw new InvalidOperationException($"'{key}' of '{Shape.Name}' is not an object field");
        }

        return Open(ctx, entry.Value, ot.Shape, what, Child(key), $"'{key}'");
    }

    /// <summary>Opens a node as a mapping of the given shape, reporting when it is something else.</summary>
    public static MapReader? Open(ReadContext ctx, YamlNode node, Shape shape, string what, string path, string label)
    {
        if (node is YamlMapping map)
        {
            return new MapReader(ctx, map, shape, what, path);
        }

        ctx.Error(node.Start, $"{label} must be a mapping, got {DescribeNode(node)}");
        return null;
    }

    private static string DescribeNode(YamlNode node) =>
        node is YamlScalar s && !s.IsNull ? $"{s.KindName} '{(s.Value.Length > 40 ? s.Value[..37] + "..." : s.Value)}'" : node.KindName;

    /// <summary>The items of a list field, each read by <paramref name="read"/>; items it returns null for are left out.</summary>
    public ImmutableArray<T> List<T>(string key, Func<YamlNode, int, string, T?> read)
    {
        var entry = Lookup(key);
        if (entry is null)
        {
            return [];
        }

        var type = (ListType)TypeOf(key);
        if (entry.Value is not YamlSequence seq)
        {
            // A single value where a list is expected is a common slip; say so plainly.
            ctx.Error(entry.Value.Start, $"'{key}' must be a list, got {DescribeNode(entry.Value)}");
            return [];
        }

        if (seq.Items.Length < type.MinItems)
        {
            ctx.Error(seq.Start, $"'{key}' needs at least {type.MinItems} item{(type.MinItems == 1 ? string.Empty : "s")}");
        }

        var result = ImmutableArray.CreateBuilder<T>();
        for (var i = 0; i < seq.Items.Length; i++)
        {
            var itemPath = $"{Child(key)}[{i}]";
            ctx.Positions.Record(itemPath, seq.Items[i].Start);
            if (read(seq.Items[i], i, itemPath) is { } item)
            {
                result.Add(item);
            }
        }

        return result.ToImmutable();
    }

    /// <summary>A list of scalars of the list's declared item type.</summary>
    public ImmutableArray<T> ScalarList<T>(string key)
    {
        var type = Shape.Find(key)?.Type as ListType ?? throw new InvalidOperationException($"'{key}' is not a list field");
        return List(key, (node, i, _) => ctx.ReadScalar(type.Item, node, $"item {i + 1} of '{key}'") is T v ? v : default);
    }

    /// <summary>The entries of a map field, keys checked against the map's key type.</summary>
    public ImmutableArray<(YamlScalar Key, YamlNode Value, string Path)> Entries(string key, string keyWhat)
    {
        var entry = Lookup(key);
        if (entry is null)
        {
            return [];
        }

        var type = (MapType)TypeOf(key);
        if (entry.Value is not YamlMapping map)
        {
            if (!(entry.Value is YamlScalar { IsNull: true }))
            {
                ctx.Error(entry.Value.Start, $"'{key}' must be a mapping, got {DescribeNode(entry.Value)}");
            }

            return [];
        }

        var result = ImmutableArray.CreateBuilder<(YamlScalar, YamlNode, string)>();
        foreach (var e in map.Entries)
        {
            var path = $"{Child(key)}.{e.Key.Value}";
            ctx.Positions.Record(path, e.Value.Start);
            ctx.Positions.Record(path + "@key", e.Key.Start);
            if (ctx.CheckMapKey(type.Key, e.Key, keyWhat))
            {
                result.Add((e.Key, e.Value, path));
            }
        }

        return result.ToImmutable();
    }

    /// <summary>A map field whose values are strings.</summary>
    public ImmutableArray<KeyValuePair<string, string>> StringMap(string key, string keyWhat)
    {
        var type = (MapType)TypeOf(key);
        var result = ImmutableArray.CreateBuilder<KeyValuePair<string, string>>();
        foreach (var (k, v, _) in Entries(key, keyWhat))
        {
            if (ctx.ReadScalar(type.Value, v, $"'{k.Value}'") is string s)
            {
                result.Add(new(k.Value, s));
            }
        }

        return result.ToImmutable();
    }
}
