using System.Collections.Immutable;

namespace Gantry.Core.Manifest.Schema;

/// <summary>The declared type of a manifest field. The reader enforces it; the JSON Schema is written from it.</summary>
public abstract record FieldType
{
    /// <summary>How the type is named in messages: "a duration such as 30s".</summary>
    public abstract string Expected { get; }
}

public sealed record StringType(string Expected = "a string") : FieldType
{
    public override string Expected { get; } = Expected;
}

public sealed record NameType : FieldType
{
    public override string Expected => "a name of lowercase letters, digits and '-'";
}

public sealed record IntegerType(long Min, long Max) : FieldType
{
    public override string Expected => $"an integer from {Min} to {Max}";
}

public sealed record NumberType(double Min, double Max) : FieldType
{
    public override string Expected => $"a number from {Min} to {Max}";
}

public sealed record BooleanType : FieldType
{
    public override string Expected => "true or false";
}

public sealed record DurationType : FieldType
{
    public override string Expected => "a duration such as 30s, 500ms or 5m";
}

public sealed record PercentType(double Min, double Max) : FieldType
{
    public override string Expected => "a percentage such as 10%";
}

/// <summary>A traffic weight: an integer 0-100 or a percentage such as <c>10%</c>.</summary>
public sealed record WeightType : FieldType
{
    public override string Expected => "a weight from 0 to 100 (or 0% to 100%)";
}

public sealed record CountOrPercentType : FieldType
{
    public override string Expected => "a count such as 1 or a percentage such as 25%";
}

public sealed record ConditionType : FieldType
{
    public override string Expected => "a condition such as '> 1%' or '> baseline + 100ms'";
}

/// <summary>A quality gate's condition: against a threshold, or against the previous evaluation (<c>&lt; previous - 2%</c>).</summary>
public sealed record GateConditionType : FieldType
{
    public override string Expected => "a condition such as '> 0' or '< previous - 2%'";
}

/// <summary>An address; with <see cref="Schemes"/>, optionally written with <c>http://</c> or <c>https://</c> in front (a front door).</summary>
public sealed record EndpointType(bool Schemes = false) : FieldType
{
    public override string Expected => Schemes ? "an address such as 127.0.0.1:8080 or https://127.0.0.1:8443" : "an address such as 127.0.0.1:8080";

    /// <summary>The scheme written in front of an address, if any, and where the address itself starts.</summary>
    public static (string? Scheme, int Offset) SchemeOf(string text) =>
        text.StartsWith("https://", StringComparison.OrdinalIgnoreCase) ? ("https", 8)
        : text.StartsWith("http://", StringComparison.OrdinalIgnoreCase) ? ("http", 7)
        : (null, 0);
}

public sealed record UrlType : FieldType
{
    public override string Expected => "an http:// or https:// URL";
}

public sealed record TimeOfDayType : FieldType
{
    public override string Expected => "a time of day such as 09:30";
}

public sealed record DateType : FieldType
{
    public override string Expected => "a date such as 2026-12-24";
}

public sealed record ZoneType : FieldType
{
    public override string Expected => "an IANA time zone such as Europe/Berlin";
}

public sealed record EnumType(ImmutableArray<string> Values) : FieldType
{
    public override string Expected => "one of " + string.Join(", ", Values);
}

public sealed record ListType(FieldType Item, int MinItems = 0) : FieldType
{
    public override string Expected => "a list";
}

/// <summary>A mapping from names chosen by the user to values of one type.</summary>
public sealed record MapType(FieldType Value, FieldType Key) : FieldType
{
    public override string Expected => "a mapping";
}

public sealed record ObjectType(Shape Shape) : FieldType
{
    public override string Expected => "a mapping";
}

/// <summary>Either of several forms, such as <c>pause: 30s</c> or <c>pause: { duration: 30s }</c>.</summary>
public sealed record OneOfType(ImmutableArray<FieldType> Alternatives) : FieldType
{
    public override string Expected => string.Join(" or ", Alternatives.Select(a => a.Expected));
}

public sealed record Field(string Key, FieldType Type, string Description, bool Required = false, string? Default = null);

/// <summary>A mapping with known keys. <see cref="ExactlyOne"/>: exactly one of its keys must be given.</summary>
public sealed record Shape(string Name, string Title, string Description, ImmutableArray<Field> Fields, bool ExactlyOne = false)
{
    public Field? Find(string key) => Fields.FirstOrDefault(f => f.Key == key);

    public IEnumerable<string> Keys => Fields.Select(f => f.Key);
}
