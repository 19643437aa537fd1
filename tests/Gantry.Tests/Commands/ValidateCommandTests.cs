using System.Text.Json;
using Gantry.Testing;

namespace Gantry.Tests.Commands;

public sealed class ValidateCommandTests : IDisposable
{
    private readonly string temp = Directory.CreateTempSubdirectory("gantry-cli-").FullName;

    public void Dispose() => Directory.Delete(temp, recursive: true);

    private string Write(string name, string text)
    {
        var path = Path.Combine(temp, name);
        File.WriteAllText(path, text);
        return path;
    }

    private const string TwoErrors = """
        services:
          shop:
            process: { command: app, args: ["{port}"] }
            listen: 127.0.0.1:99999
            replica: 2
        """;

    [Theory(Timeout = 10_000)]
    [InlineData("examples/shop/gantry.yaml", "1 service, 2 analysis templates, 3 environments")]
    [InlineData("examples/strategies/blue-green.yaml", "1 service, 1 analysis template, 0 environments")]
    [InlineData("examples/strategies/rolling.yaml", "1 service, 0 analysis templates, 0 environments")]
    public async Task Validate_Examples_ExitZeroWithASummary(string file, string summary)
    {
        var path = RepoPaths.Combine(file);
        var (exit, output, error) = await GantryCliTests.RunAsync("validate", "-f", path);

        exit.Should().Be(ExitCodes.Success);
        output.Should().Be($"{path}: valid: {summary}\n");
        error.Should().BeEmpty();
    }

    [Fact(Timeout = 10_000)]
    public async Task Validate_InvalidManifest_PrintsEveryErrorInCompilerFormAndExitsTwo()
    {
        var path = Write("gantry.yaml", TwoErrors);

        var (exit, output, _) = await GantryCliTests.RunAsync("validate", "--file", path);

        exit.Should().Be(ExitCodes.BadInput);
        output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Should().Equal(
            $"{path}:2:3: warning: service 'shop' has no readiness probe: its instances get traffic as soon as their process starts",
            $"{path}:4:23: error: 'listen': the port must be a number from 1 to 65535, got '99999'",
            $"{path}:5:5: error: unknown key 'replica' in service 'shop'; did you mean 'replicas'?",
            $"{path}: invalid: 2 errors, 1 warning");
    }

    [Fact(Timeout = 10_000)]
    public async Task Validate_JsonOutput_GivesDiagnosticsWithPositions()
    {
        var path = Write("gantry.yaml", TwoErrors);

        var (exit, output, _) = await GantryCliTests.RunAsync("validate", "-f", path, "--output", "json");

        exit.Should().Be(ExitCodes.BadInput);
        using var doc = JsonDocument.Parse(output);
        doc.RootElement.GetProperty("valid").GetBoolean().Should().BeFalse();
        doc.RootElement.GetProperty("errors").GetInt32().Should().Be(2);
        doc.RootElement.GetProperty("warnings").GetInt32().Should().Be(1);
        var second = doc.RootElement.GetProperty("diagnostics")[1];
        second.GetProperty("file").GetString().Should().Be(path);
        second.GetProperty("line").GetInt32().Should().Be(4);
        second.GetProperty("column").GetInt32().Should().Be(23);
        second.GetProperty("severity").GetString().Should().Be("error");
        second.GetProperty("message").GetString().Should().Be("'listen': the port must be a number from 1 to 65535, got '99999'");
    }

    [Fact(Timeout = 10_000)]
    public async Task Validate_JsonOutputForValidManifest_SaysValid()
    {
        var (exit, output, _) = await GantryCliTests.RunAsync("validate", "-f", RepoPaths.Combine("examples", "shop", "gantry.yaml"), "-o", "json");

        exit.Should().Be(ExitCodes.Success);
        using var doc = JsonDocument.Parse(output);
        doc.RootElement.GetProperty("valid").GetBoolean().Should().BeTrue();
        doc.RootElement.GetProperty("diagnostics").GetArrayLength().Should().Be(0);
    }

    [Fact(Timeout = 10_000)]
    public async Task Validate_MissingFile_OneLineAndExitTwo()
    {
        var path = Path.Combine(temp, "absent.yaml");

        var (exit, output, _) = await GantryCliTests.RunAsync("validate", "-f", path);

        exit.Should().Be(ExitCodes.BadInput);
        output.Should().Be($"{path}:1:1: error: no such file\n");
    }

    [Fact(Timeout = 10_000)]
    public async Task Schema_Prints_TheGeneratedJsonSchema()
    {
        var (exit, output, _) = await GantryCliTests.RunAsync("schema");

        exit.Should().Be(ExitCodes.Success);
        output.Should().Be(await File.ReadAllTextAsync(RepoPaths.Combine("docs", "schema", "gantry.schema.json")));
    }
}
