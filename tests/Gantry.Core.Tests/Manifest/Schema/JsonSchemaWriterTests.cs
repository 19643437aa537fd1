using System.Text.Json;
using Gantry.Core.Manifest;
using Gantry.Core.Manifest.Schema;
using Gantry.Testing;

namespace Gantry.Core.Tests.Manifest.Schema;

/// <summary>Keeps docs/schema/gantry.schema.json, the shapes and the reader in step.</summary>
public sealed class JsonSchemaWriterTests
{
    private static readonly string SchemaPath = RepoPaths.Combine("docs", "schema", "gantry.schema.json");

    [Fact(Timeout = 10_000)]
    public async Task Write_CommittedSchema_IsUpToDate()
    {
        var committed = await File.ReadAllTextAsync(SchemaPath);

        committed.Should().Be(JsonSchemaWriter.Write(),
            "docs/schema/gantry.schema.json is generated: run 'dotnet run --project src/Gantry -- schema > docs/schema/gantry.schema.json'");
    }

    [Fact(Timeout = 10_000)]
    public async Task MarkdownReference_Committed_IsUpToDateAndListsEveryKey()
    {
        var committed = await File.ReadAllTextAsync(RepoPaths.Combine("docs", "manifest-reference.md"));

        committed.Should().Be(MarkdownReferenceWriter.Write(),
            "docs/manifest-reference.md is generated: run 'dotnet run --project src/Gantry -- schema --format markdown > docs/manifest-reference.md'");
        foreach (var shape in ManifestShapes.All)
        {
            committed.Should().Contain($"<a id=\"{shape.Name}\"></a>");
            foreach (var key in shape.Keys)
            {
                committed.Should().Contain($"| `{key}` |");
            }
        }
    }

    [Fact(Timeout = 10_000)]
    public async Task Write_CommittedSchema_DeclaresExactlyTheKeysOfEveryShape()
    {
        using var doc = JsonDocument.Parse(await File.ReadAllTextAsync(SchemaPath));
        var defs = doc.RootElement.GetProperty("$defs");
        foreach (var shape in ManifestShapes.All)
        {
            var node = shape == ManifestShapes.Root ? doc.RootElement : defs.GetProperty(shape.Name);
            var keys = node.GetProperty("properties").EnumerateObject().Select(p => p.Name);
            keys.Should().BeEquivalentTo(shape.Keys, $"the schema of '{shape.Name}' lists the keys the reader accepts");
            node.GetProperty("additionalProperties").GetBoolean().Should().BeFalse();
        }

        defs.EnumerateObject().Select(d => d.Name).Should().BeEquivalentTo(ManifestShapes.All.Where(s => s != ManifestShapes.Root).Select(s => s.Name));
    }

    [Fact(Timeout = 10_000)]
    public void LoadFile_CompleteManifest_ReaderAsksForEveryDeclaredKey()
    {
        var consumed = new HashSet<string>(StringComparer.Ordinal);

        var result = ManifestLoader.LoadFile(Path.Combine(AppContext.BaseDirectory, "Manifest", "Complete", "everything.yaml"), consumed);

        result.ErrorCount.Should().Be(0, string.Join("\n", result.Diagnostics));
        var declared = ManifestShapes.All.SelectMany(s => s.Keys.Select(k => $"{s.Name}.{k}"));
        declared.Except(consumed).Should().BeEmpty("every key in the schema is read by the loader");
        consumed.Except(declared).Should().BeEmpty("the loader reads no key the schema lacks");
    }

    [Fact(Timeout = 10_000)]
    public void LoadFile_CompleteManifest_UsesEveryDeclaredKeyInItsText()
    {
        var result = ManifestLoader.LoadFile(Path.Combine(AppContext.BaseDirectory, "Manifest", "Complete", "everything.yaml"));

        // Positions are recorded for every key present, so every schema key appears in some path.
        var keysPresent = result.Positions.Paths
            .Where(p => p.EndsWith("@key", StringComparison.Ordinal))
            .Select(p => p[..^4].Split('.')[^1])
            .ToHashSet(StringComparer.Ordinal);
        var allKeys = ManifestShapes.All.SelectMany(s => s.Keys).ToHashSet(StringComparer.Ordinal);
        allKeys.Except(keysPresent).Should().BeEmpty("everything.yaml writes every key at least once");
    }
}
