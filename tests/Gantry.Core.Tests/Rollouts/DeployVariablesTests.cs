using Gantry.Core.Rollouts;

namespace Gantry.Core.Tests.Rollouts;

/// <summary>What a deployer may set on instances: settings, never loader, runtime or shell hooks; bounded sizes.</summary>
public sealed class DeployVariablesTests
{
    private static (string Message, bool TooLarge)? Check(Dictionary<string, string> set, params string[] allow) => DeployVariables.Check(set, allow);

    [Theory(Timeout = 5_000)]
    [InlineData("LD_PRELOAD")]
    [InlineData("ld_library_path")]
    [InlineData("COREHOST_TRACE")]
    [InlineData("COREHOST_TRACEFILE")]
    [InlineData("DOTNET_STARTUP_HOOKS")]
    [InlineData("CORECLR_PROFILER_PATH")]
    [InlineData("ASPNETCORE_HOSTINGSTARTUPASSEMBLIES")]
    [InlineData("PATH")]
    [InlineData("HOME")]
    [InlineData("BASH_ENV")]
    [InlineData("ENV")]
    [InlineData("PYTHONPATH")]
    [InlineData("NODE_OPTIONS")]
    [InlineData("PERL5OPT")]
    [InlineData("JAVA_TOOL_OPTIONS")]
    [InlineData("GANTRY_OWNER")]
    public async Task Check_LoaderAndRuntimeHooks_AreRefusedUnlessAllowed(string name)
    {
        var refused = Check(new() { [name] = "/tmp/x.so" });
        refused.Should().NotBeNull();
        refused!.Value.TooLarge.Should().BeFalse();
        refused.Value.Message.Should().StartWith($"variable {name} may not be set by a deploy").And.Contain("variables.allow");

        Check(new() { [name] = "x" }, name).Should().BeNull("the manifest names it");
        Check(new() { [name] = "x" }, name[..2] + "*").Should().BeNull("a prefix ending in * allows it");
        await Task.CompletedTask;
    }

    [Theory(Timeout = 5_000)]
    [InlineData("COLOR")]
    [InlineData("DB_PASSWORD")]
    [InlineData("FAULT_ERROR_RATE")]
    [InlineData("ASPNETCORE_ENVIRONMENT")]
    [InlineData("LOG_LEVEL")]
    public async Task Check_ApplicationSettings_AreAccepted(string name)
    {
        Check(new() { [name] = "value with spaces, = and ünïcode" }).Should().BeNull();
        await Task.CompletedTask;
    }

    [Theory(Timeout = 5_000)]
    [InlineData("a\nb", "U+000A at position 2")]
    [InlineData("a\rX-Injected: 1", "U+000D at position 2")]
    [InlineData("\u001b[31mred", "U+001B at position 1")]
    [InlineData("tab\there", "U+0009 at position 4")]
    [InlineData("nul\0", "U+0000 at position 4")]
    public async Task Check_ControlCharactersInValues_AreRefused(string value, string where)
    {
        var refused = Check(new() { ["COLOR"] = value });
        refused!.Value.Message.Should().Be($"the value of COLOR holds a control character ({where}): line breaks, tabs and escapes are not allowed in variables");
        await Task.CompletedTask;
    }

    [Fact(Timeout = 5_000)]
    public async Task Check_SizeLimits_AreTooLarge()
    {
        Check(Enumerable.Range(0, DeployVariables.MaxCount + 1).ToDictionary(i => $"V{i}", _ => "x"))!.Value
            .Should().Be(("201 variables: a deploy may give at most 200", true));
        Check(Enumerable.Range(0, DeployVariables.MaxCount).ToDictionary(i => $"V{i}", _ => "x")).Should().BeNull();
        Check(new() { [new string('A', 129)] = "x" })!.Value.TooLarge.Should().BeTrue();
        Check(new() { ["BIG"] = new string('x', DeployVariables.MaxValueLength + 1) })!.Value
            .Should().Be(("the value of BIG is 16385 characters long: at most 16384", true));
        Check(Enumerable.Range(0, 17).ToDictionary(i => $"V{i}", _ => new string('x', DeployVariables.MaxValueLength)))!.Value.Message
            .Should().Be("the variables take 278569 characters: at most 262144 in one deploy");
        DeployVariables.CheckReason(new string('r', 2001)).Should().Be("the reason is 2001 characters long: at most 2000");
        DeployVariables.CheckReason(new string('r', 2000)).Should().BeNull();
        await Task.CompletedTask;
    }
}
