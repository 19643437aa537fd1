using System.Collections.Immutable;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Gantry.Core.Manifest.Yaml;

/// <summary>
/// Builds a <see cref="YamlNode"/> tree from YamlDotNet's event stream, keeping every position,
/// and refusing what a manifest has no use for: several documents, complex keys, duplicate keys,
/// deep nesting, and alias expansion beyond a budget (the "billion laughs" bomb).
/// Merge keys (<c>&lt;&lt;: *defaults</c>) are applied; explicit keys win over merged ones.
/// </summary>
public sealed class YamlTreeReader
{
    /// <summary>Nesting deeper than this is refused (no manifest needs it; it guards the stack).</summary>
    public const int MaxDepth = 64;

    /// <summary>The most nodes a document may stand for once its aliases are expanded.</summary>
    public const long MaxExpandedNodes = 200_000;

    private readonly DiagnosticBag diagnostics;
    private readonly Dictionary<string, YamlNode> anchors = new(StringComparer.Ordinal);
    private readonly Dictionary<YamlNode, long> expandedSize = new(ReferenceEqualityComparer.Instance);
    private readonly Parser parser;
    private SourcePosition lastPosition = SourcePosition.Start;
    private long totalExpanded;

    private YamlTreeReader(string text, DiagnosticBag diagnostics)
    {
        this.diagnostics = diagnostics;
        parser = new Parser(new StringReader(text));
    }

    /// <summary>Parses one YAML document. Returns null when the document is empty or broken (see diagnostics).</summary>
    public static YamlNode? Read(string text, DiagnosticBag diagnostics)
    {
        var reader = new YamlTreeReader(text, diagnostics);
        try
        {
            return reader.ReadStream();
        }
        catch (YamlException ex)
        {
            var at = new SourcePosition(Math.Max(1, (int)ex.Start.Line), Math.Max(1, (int)ex.Start.Column));
            var message = SyntaxMessage(ex);
            if (message.Contains("tab", StringComparison.Ordinal) && FirstIndentingTab(text) is { } tab)
            {
                at = tab;
            }

            diagnostics.Error(at, message);
            return null;
        }
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException or IndexOutOfRangeException)
        {
            // YamlDotNet's scanner throws these on some malformed input instead of a YamlException.
            diagnostics.Error(reader.lastPosition, "invalid YAML syntax after this point");
            return null;
        }
        catch (BombException ex)
        {
            diagnostics.Error(ex.At, ex.Message);
            return null;
        }
    }

    /// <summary>YamlDotNet reports a tab used as indentation at the enclosing node; find the tab itself.</summary>
    private static SourcePosition? FirstIndentingTab(string text)
    {
        var lines = text.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var indent = lines[i].Length - lines[i].TrimStart(' ', '\t').Length;
            var tab = lines[i].IndexOf('\t', 0, indent);
            if (tab >= 0)
            {
                return new SourcePosition(i + 1, tab + 1);
            }
        }

        return null;
    }

    private static string SyntaxMessage(YamlException ex)
    {
        // YamlDotNet messages look like "(Line: 3, Col: 5, Idx: 20) - (Line: 3, Col: 6, Idx: 21): While scanning ...".
        var message = ex.Message;
        var colon = message.IndexOf("): ", StringComparison.Ordinal);
        if (message.StartsWith('(') && colon > 0)
        {
            message = message[(colon + 3)..];
        }

        message = message.Trim().TrimEnd('.');
        return "invalid YAML: " + (message.Length > 0 ? char.ToLowerInvariant(message[0]) + message[1..] : "syntax error");
    }

    private static SourcePosition At(Mark mark) => new(Math.Max(1, (int)mark.Line), Math.Max(1, (int)mark.Column));

    private ParsingEvent Next()
    {
        if (!parser.MoveNext() || parser.Current is null)
        {
            throw new YamlException(Mark.Empty, Mark.Empty, "unexpected end of the document");
        }

        lastPosition = At(parser.Current.Start);
        return parser.Current;
    }

    private YamlNode? ReadStream()
    {
        Expect<StreamStart>(Next());
        var first = Next();
        if (first is StreamEnd)
        {
            return null;
        }

        Expect<DocumentStart>(first);
        var start = Next();
        YamlNode? root = start is DocumentEnd ? null : ReadNode(start, 1);
        if (root is not null)
        {
            Expect<DocumentEnd>(Next());
        }

        var after = Next();
        if (after is DocumentStart second)
        {
            diagnostics.Error(At(second.Start), "a manifest is one YAML document; remove the second document (after '---')");
        }

        return root;
    }

    private static void Expect<T>(ParsingEvent e)
        where T : ParsingEvent
    {
        if (e is not T)
        {
            throw new YamlException(e.Start, e.End, $"unexpected {e.GetType().Name}");
        }
    }

    private YamlNode ReadNode(ParsingEvent e, int depth)
    {
        if (depth > MaxDepth)
        {
            throw new BombException(At(e.Start), $"nesting is deeper than {MaxDepth} levels");
        }

        YamlNode node;
        string? anchor;
        switch (e)
        {
            case AnchorAlias alias:
                if (!anchors.TryGetValue(alias.Value.Value, out var target))
                {
                    throw new YamlException(alias.Start, alias.End, $"Alias *{alias.Value.Value} refers to no anchor defined before it");
                }

                Count(At(alias.Start), expandedSize[target]);
                return target;
            case Scalar scalar:
                CheckTag(scalar.Tag, scalar.Start);
                node = new YamlScalar(scalar.Value, StyleOf(scalar), At(scalar.Start));
                Count(node.Start, 1);
                expandedSize[node] = 1;
                anchor = scalar.Anchor.IsEmpty ? null : scalar.Anchor.Value;
                break;
            case SequenceStart seqStart:
                CheckTag(seqStart.Tag, seqStart.Start);
                node = ReadSequence(seqStart, depth);
                anchor = seqStart.Anchor.IsEmpty ? null : seqStart.Anchor.Value;
                break;
            case MappingStart mapStart:
                CheckTag(mapStart.Tag, mapStart.Start);
                node = ReadMapping(mapStart, depth);
                anchor = mapStart.Anchor.IsEmpty ? null : mapStart.Anchor.Value;
                break;
            default:
                throw new YamlException(e.Start, e.End, $"unexpected {e.GetType().Name}");
        }

        if (anchor is not null)
        {
            anchors[anchor] = node;
        }

        return node;
    }

    private YamlSequence ReadSequence(SequenceStart start, int depth)
    {
        var items = ImmutableArray.CreateBuilder<YamlNode>();
        long size = 1;
        Count(At(start.Start), 1);
        for (var e = Next(); e is not SequenceEnd; e = Next())
        {
            var item = ReadNode(e, depth + 1);
            size += expandedSize[item];
            items.Add(item);
        }

        var node = new YamlSequence(items.ToImmutable(), At(start.Start));
        expandedSize[node] = size;
        return node;
    }

    private YamlMapping ReadMapping(MappingStart start, int depth)
    {
        var entries = new List<YamlEntry>();
        var merged = new List<YamlEntry>();
        var seen = new Dictionary<string, SourcePosition>(StringComparer.Ordinal);
        long size = 1;
        Count(At(start.Start), 1);
        for (var e = Next(); e is not MappingEnd; e = Next())
        {
            var keyNode = ReadNode(e, depth + 1);
            var valueEvent = Next();
            var value = ReadNode(valueEvent, depth + 1);
            size += expandedSize[value] + 1;
            if (keyNode is not YamlScalar key)
            {
                diagnostics.Error(keyNode.Start, "keys must be plain names, not " + keyNode.KindName);
                continue;
            }

            if (key.IsPlain && key.Value == "<<")
            {
                AddMerged(value, At(valueEvent.Start), merged);
                continue;
            }

            if (seen.TryGetValue(key.Value, out var first))
            {
                diagnostics.Error(key.Start, $"duplicate key '{key.Value}' (first defined at {first})");
                continue;
            }

            seen[key.Value] = key.Start;
            entries.Add(new YamlEntry(key, value));
        }

        foreach (var entry in merged)
        {
            if (seen.TryAdd(entry.Key.Value, entry.Key.Start))
            {
                entries.Add(entry);
            }
        }

        var node = new YamlMapping([.. entries], At(start.Start));
        expandedSize[node] = size;
        return node;
    }

    private void AddMerged(YamlNode value, SourcePosition usedAt, List<YamlEntry> merged)
    {
        switch (value)
        {
            case YamlMapping map:
                merged.AddRange(map.Entries);
                break;
            case YamlSequence seq when seq.Items.All(i => i is YamlMapping):
                // Earlier mappings in the list win over later ones.
                foreach (var map in seq.Items.Cast<YamlMapping>())
                {
                    merged.AddRange(map.Entries.Where(e => merged.TrueForAll(m => m.Key.Value != e.Key.Value)));
                }

                break;
            default:
                diagnostics.Error(usedAt, "a merge key '<<' takes a mapping or a list of mappings, not " + value.KindName);
                break;
        }
    }

    private void Count(SourcePosition at, long nodes)
    {
        totalExpanded += nodes;
        if (totalExpanded > MaxExpandedNodes)
        {
            throw new BombException(at, $"the document expands to more than {MaxExpandedNodes:N0} nodes through aliases (a YAML bomb?)");
        }
    }

    private static void CheckTag(TagName tag, Mark at)
    {
        if (!tag.IsEmpty && !tag.IsNonSpecific && tag.Value is not "tag:yaml.org,2002:str" and not "tag:yaml.org,2002:map" and not "tag:yaml.org,2002:seq")
        {
            throw new YamlException(at, at, $"the YAML tag '{tag.Value}' is not supported in a manifest");
        }
    }

    private static ScalarStyle StyleOf(Scalar scalar) =>
        scalar.Style switch
        {
            YamlDotNet.Core.ScalarStyle.SingleQuoted => ScalarStyle.SingleQuoted,
            YamlDotNet.Core.ScalarStyle.DoubleQuoted => ScalarStyle.DoubleQuoted,
            YamlDotNet.Core.ScalarStyle.Literal or YamlDotNet.Core.ScalarStyle.Folded => ScalarStyle.Block,
            _ when !scalar.Tag.IsEmpty && scalar.Tag.Value == "tag:yaml.org,2002:str" => ScalarStyle.DoubleQuoted,
            _ => ScalarStyle.Plain,
        };

    private sealed class BombException(SourcePosition at, string message) : Exception(message)
    {
        public SourcePosition At { get; } = at;
    }
}
