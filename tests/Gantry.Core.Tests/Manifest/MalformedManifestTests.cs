using Gantry.Core.Manifest;

namespace Gantry.Core.Tests.Manifest;

/// <summary>
/// Each file in Malformed/ is a manifest with one kind of mistake; its trailing <c># expect:</c> lines
/// give every diagnostic it must produce, with exact line, column, severity and message, in order.
/// </summary>
public sealed class MalformedManifestTests
{
    private static string Folder => Path.Combine(AppContext.BaseDirectory, "Manifest", "Malformed");

    public static TheoryData<string> Cases()
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.GetFiles(Folder, "*.yaml").Order(StringComparer.Ordinal))
        {
            data.Add(Path.GetFileName(file));
        }

        return data;
    }

    [Fact(Timeout = 10_000)]
    public void Cases_Folder_HoldsAtLeastFortyCasesEachWithExpectations()
    {
        var files = Directory.GetFiles(Folder, "*.yaml");
        files.Should().HaveCountGreaterThanOrEqualTo(40);
        files.Should().OnlyContain(f => File.ReadLines(f).Any(l => l.StartsWith("# expect: ", StringComparison.Ordinal)));
    }

    [Theory(Timeout = 10_000)]
    [MemberData(nameof(Cases))]
    public void LoadFile_MalformedCase_ReportsExactlyTheExpectedDiagnostics(string name)
    {
        var path = Path.Combine(Folder, name);
        var expected = File.ReadLines(path)
            .Where(l => l.StartsWith("# expect: ", StringComparison.Ordinal))
            .Select(l => l["# expect: ".Length..])
            .ToList();

        var result = ManifestLoader.LoadFile(path);

        var actual = result.Diagnostics
            .Select(d => $"{d.Line}:{d.Column}: {(d.Severity == Severity.Error ? "error" : "warning")}: {d.Message}")
            .ToList();
        actual.Should().Equal(expected);
        result.Diagnostics.Should().OnlyContain(d => d.File == path);
        result.Succeeded.Should().Be(!expected.Any(e => e.Contains(": error: ", StringComparison.Ordinal)));
    }
}
