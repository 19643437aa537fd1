using Gantry.Core.Manifest;
using Gantry.Core.Manifest.Yaml;

namespace Gantry.Core.Tests.Manifest.Yaml;

public sealed class YamlTreeReaderTests
{
    private static (YamlNode? Root, IReadOnlyList<Diagnostic> Diagnostics) Read(string text)
    {
        var bag = new DiagnosticBag("t.yaml");
        var root = YamlTreeReader.Read(text, bag);
        return (root, bag.ToSortedList());
    }

    [Fact(Timeout = 5_000)]
    public void Read_NestedDocument_KeepsOneBasedPositionsAndStyles()
    {
        var (root, diagnostics) = Read("a: 1\nb:\n  - x\n  - 'y'\n");

        diagnostics.Should().BeEmpty();
        var map = root.Should().BeOfType<YamlMapping>().Subject;
        map.Entries[0].Key.Start.Should().Be(new SourcePosition(1, 1));
        map.Entries[0].Value.Should().Be(new YamlScalar("1", ScalarStyle.Plain, new SourcePosition(1, 4)));
        var seq = map.Entries[1].Value.Should().BeOfType<YamlSequence>().Subject;
        seq.Items[1].Should().Be(new YamlScalar("y", ScalarStyle.SingleQuoted, new SourcePosition(4, 5)));
    }

    [Fact(Timeout = 5_000)]
    public void Read_MergeKeys_ExplicitKeysWinAndEarlierMergesWinOverLater()
    {
        var (root, diagnostics) = Read("x: &x { a: 1, b: 1 }\ny: &y { b: 2, c: 2 }\nz:\n  <<: [*x, *y]\n  a: 3\n");

        diagnostics.Should().BeEmpty();
        var z = (YamlMapping)((YamlMapping)root!).Entries[2].Value;
        z.Entries.Select(e => $"{e.Key.Value}={((YamlScalar)e.Value).Value}").Should().Equal("a=3", "b=1", "c=2");
    }

    [Fact(Timeout = 5_000)]
    public void Read_UndefinedAlias_IsAnError()
    {
        var (root, diagnostics) = Read("a: *nothing\n");

        root.Should().BeNull();
        diagnostics.Should().ContainSingle().Which.Position.Should().Be(new SourcePosition(1, 4));
    }

    [Fact(Timeout = 5_000)]
    public void Read_CustomTag_IsRefused()
    {
        var (_, diagnostics) = Read("a: !secret value\n");

        diagnostics.Should().ContainSingle().Which.Message.Should().Be("invalid YAML: the YAML tag '!secret' is not supported in a manifest");
    }

    [Fact(Timeout = 5_000)]
    public void Read_AliasesWithinBudget_AreSharedNotCopied()
    {
        var (root, diagnostics) = Read("a: &a [1, 2, 3]\nb: *a\nc: *a\n");

        diagnostics.Should().BeEmpty();
        var map = (YamlMapping)root!;
        map.Entries[1].Value.Should().BeSameAs(map.Entries[0].Value);
    }

    [Fact(Timeout = 5_000)]
    public void PositionOf_QuotedScalar_CountsTheQuote()
    {
        var plain = new YamlScalar("abc", ScalarStyle.Plain, new SourcePosition(3, 10));
        var quoted = plain with { Style = ScalarStyle.DoubleQuoted };
        var block = plain with { Style = ScalarStyle.Block };

        plain.PositionOf(2).Should().Be(new SourcePosition(3, 12));
        quoted.PositionOf(2).Should().Be(new SourcePosition(3, 13));
        block.PositionOf(2).Should().Be(new SourcePosition(3, 10));
    }
}
