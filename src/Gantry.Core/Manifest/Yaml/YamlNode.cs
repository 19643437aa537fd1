using System.Collections.Immutable;

namespace Gantry.Core.Manifest.Yaml;

/// <summary>A node of a parsed YAML document that remembers where it was written.</summary>
public abstract record YamlNode(SourcePosition Start)
{
    /// <summary>A short name of the node's kind for messages: "a mapping", "a list", "a string".</summary>
    public abstract string KindName { get; }
}

/// <summary>How a scalar was written, which decides whether it can be a number, boolean or null.</summary>
public enum ScalarStyle
{
    Plain,
    SingleQuoted,
    DoubleQuoted,
    Block,
}

public sealed record YamlScalar(string Value, ScalarStyle Style, SourcePosition Start) : YamlNode(Start)
{
    public bool IsPlain => Style == ScalarStyle.Plain;

    /// <summary>YAML 1.2 core schema null: empty, <c>~</c> or <c>null</c>, unquoted.</summary>
    public bool IsNull => IsPlain && (Value.Length == 0 || Value is "~" or "null" or "Null" or "NULL");

    public override string KindName => IsNull ? "null" : IsPlain ? PlainKind(Value) : "a string";

    /// <summary>
    /// The position of a character inside the scalar's text, when the text maps one to one onto the
    /// source (single-line plain or quoted scalars without escapes); otherwise the scalar's start.
    /// </summary>
    public SourcePosition PositionOf(int offset, bool textHasEscapes = false) => Style switch
    {
        ScalarStyle.Plain when !Value.Contains('\n', StringComparison.Ordinal) => Start.Advance(offset),
        ScalarStyle.SingleQuoted or ScalarStyle.DoubleQuoted when !textHasEscapes && !Value.Contains('\n', StringComparison.Ordinal) => Start.Advance(offset + 1),
        _ => Start,
    };

    private static string PlainKind(string value) =>
        value is "true" or "false" or "True" or "False" or "TRUE" or "FALSE" ? "a boolean"
        : long.TryParse(value, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out _) ? "an integer"
        : double.TryParse(value, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out _) ? "a number"
        : "a string";
}

public sealed record YamlSequence(ImmutableArray<YamlNode> Items, SourcePosition Start) : YamlNode(Start)
{
    public override string KindName => "a list";
}

public sealed record YamlEntry(YamlScalar Key, YamlNode Value);

public sealed record YamlMapping(ImmutableArray<YamlEntry> Entries, SourcePosition Start) : YamlNode(Start)
{
    public override string KindName => "a mapping";
}
