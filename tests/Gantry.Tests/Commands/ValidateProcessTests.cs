using System.Text;
using Gantry.Testing;

namespace Gantry.Tests.Commands;

/// <summary>The real gantry executable, as a user runs it: exit codes, and one clear line for bad files.</summary>
public sealed class ValidateProcessTests : IDisposable
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(30);
    private readonly string temp = Directory.CreateTempSubdirectory("gantry-proc-").FullName;

    public void Dispose() => Directory.Delete(temp, recursive: true);

    [Fact(Timeout = 60_000)]
    public async Task Validate_NoFileOption_ReadsGantryYamlInTheWorkingDirectory()
    {
        File.Copy(RepoPaths.Combine("examples", "strategies", "rolling.yaml"), Path.Combine(temp, "gantry.yaml"));

        var result = await ChildProcess.RunAsync("dotnet", [RepoPaths.GantryDll, "validate"], Limit, workingDir: temp);

        result.ExitCode.Should().Be(0, result.Stderr);
        result.Stdout.Should().Be("gantry.yaml: valid: 1 service, 0 analysis templates, 0 environments\n");
    }

    private static byte[] Content(string name) => name switch
    {
        "empty.yaml" => [],
        "binary.yaml" => [0x7f, 0x45, 0x4c, 0x46, 0x00, 0x01],
        "huge.yaml" => new byte[50 * 1024 * 1024],
        "bomb.yaml" => Encoding.UTF8.GetBytes(Bomb()),
        _ => "services:\n  shop: [\n"u8.ToArray(),
    };

    [Theory(Timeout = 60_000)]
    [InlineData("empty.yaml", "1:1: error: the manifest is empty; it needs at least a 'services' section")]
    [InlineData("binary.yaml", "1:1: error: this is a binary file (a NUL byte at offset 4), not a YAML manifest")]
    [InlineData("huge.yaml", "1:1: error: the file is 50.0 MB; a manifest may be at most 4 MB")]
    [InlineData("bomb.yaml", "error: the document expands to more than 200,000 nodes through aliases (a YAML bomb?)")]
    [InlineData("syntax.yaml", "3:1: error: invalid YAML: ")]
    public async Task Validate_BadFile_PrintsOneLineAndExitsTwo(string name, string expected)
    {
        var path = Path.Combine(temp, name);
        await File.WriteAllBytesAsync(path, Content(name));

        var result = await ChildProcess.RunGantryAsync(Limit, "validate", "-f", path);

        result.ExitCode.Should().Be(2);
        result.Stdout.Should().StartWith(path + ":").And.Contain(expected).And.EndWith("\n");
        result.Stdout.Count(c => c == '\n').Should().Be(1, "one problem is one line");
        result.Stderr.Should().BeEmpty("no stack trace");
    }

    [Fact(Timeout = 60_000)]
    public async Task Validate_MissingFile_ExitsTwoWithoutStackTrace()
    {
        var result = await ChildProcess.RunGantryAsync(Limit, "validate", "-f", Path.Combine(temp, "nope.yaml"));

        result.ExitCode.Should().Be(2);
        result.Stdout.Should().EndWith(":1:1: error: no such file\n");
        result.Stderr.Should().BeEmpty();
    }

    private static string Bomb()
    {
        var sb = new StringBuilder("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for (var i = 0; i < 9; i++)
        {
            sb.Append($"b{i}: &b{i} [");
            sb.AppendJoin(", ", Enumerable.Repeat(i == 0 ? "*a" : $"*b{i - 1}", 10));
            sb.Append("]\n");
        }

        return sb.Append("services: *b8\n").ToString();
    }
}
