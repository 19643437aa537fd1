using System.Text.RegularExpressions;
using Gantry.Testing;

namespace Gantry.Tests;

/// <summary>Keeps the README's transcripts true.</summary>
public sealed class ReadmeTests
{
    [Fact(Timeout = 60_000)]
    public async Task Readme_ValidateTranscript_MatchesTheRealOutput()
    {
        var readme = await File.ReadAllTextAsync(RepoPaths.Combine("README.md"));
        var block = Regex.Match(readme, @"```console\n\$ cd docs/examples && gantry validate -f broken.yaml\n(?<out>.*?)```", RegexOptions.Singleline);
        block.Success.Should().BeTrue("the README shows validating docs/examples/broken.yaml");

        var result = await ChildProcess.RunAsync("dotnet", [RepoPaths.GantryDll, "validate", "-f", "broken.yaml"], TimeSpan.FromSeconds(30), workingDir: RepoPaths.Combine("docs", "examples"));

        result.ExitCode.Should().Be(2);
        result.Stdout.Should().Be(block.Groups["out"].Value);
    }

    [Fact(Timeout = 10_000)]
    public async Task Readme_TopCommands_AreTheDemoAndTheTestScript()
    {
        var readme = await File.ReadAllTextAsync(RepoPaths.Combine("README.md"));
        var firstBlock = Regex.Match(readme, "```sh\n(?<cmds>.*?)```", RegexOptions.Singleline).Groups["cmds"].Value;

        firstBlock.Should().Contain("dotnet run --project src/Gantry -- demo").And.Contain("./test.sh");
        File.Exists(RepoPaths.Combine("test.sh")).Should().BeTrue();
        (await File.ReadAllTextAsync(RepoPaths.Combine(".ci", "run"))).Should().Contain("./test.sh");
    }
}
