namespace Gantry.Tests;

public sealed class GantryCliTests
{
    internal static async Task<(int Exit, string Out, string Err)> RunAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = await GantryCli.RunAsync(args, output, error, CancellationToken.None);
        return (exit, output.ToString(), error.ToString());
    }

    [Fact(Timeout = 10_000)]
    public async Task RunAsync_Help_ListsEveryCommandWithItsDescription()
    {
        var (exit, output, _) = await RunAsync("--help");

        exit.Should().Be(ExitCodes.Success);
        foreach (var command in GantryCli.Build().Subcommands)
        {
            command.Description.Should().NotBeNullOrWhiteSpace();
            output.Should().MatchRegex($@"\n\s+{command.Name}(\s+<\w+>)*\s+{System.Text.RegularExpressions.Regex.Escape(command.Description!)}");
        }
    }

    [Fact(Timeout = 10_000)]
    public void Build_ForOneCommand_BuildsOnlyItsGroup_AndTheGroupsNameWhatTheyBuild()
    {
        var all = GantryCli.Build().Subcommands.Select(c => c.Name).ToList();
        all.Should().Equal(GantryCli.GroupNames.SelectMany(n => n), "the groups declare every top-level command, in help's order");
        foreach (var group in GantryCli.GroupNames)
        {
            foreach (var name in group)
            {
                GantryCli.Build(only: name).Subcommands.Select(c => c.Name).Should().Equal(group, $"'{name}' builds its own group and nothing else");
            }
        }

        GantryCli.Build(only: "valdate").Subcommands.Should().HaveCount(all.Count, "an unknown word builds everything, for the suggestion");
        GantryCli.Build(only: "--help").Subcommands.Should().HaveCount(all.Count);
    }

    [Fact(Timeout = 10_000)]
    public async Task RunAsync_CommandHelp_IsTheSameWhetherBuiltAloneOrWithTheRest()
    {
        foreach (var name in new[] { "status", "deploy", "incident", "server", "backup" })
        {
            var (exit, output, _) = await RunAsync(name, "--help");
            exit.Should().Be(ExitCodes.Success);
            using var whole = new StringWriter();
            await GantryCli.Build().Parse([name, "--help"]).InvokeAsync(new System.CommandLine.InvocationConfiguration { Output = whole, Error = whole });
            output.Should().Be(whole.ToString(), $"'{name}' is the same command built alone");
        }

        (await RunAsync("status", "--help")).Out.Should().Contain("status [<service>] [options]").And.Contain("--output").And.Contain("--data");
    }

    [Fact(Timeout = 10_000)]
    public async Task RunAsync_NoArguments_ShowsHelpAndExitsTwo()
    {
        var (exit, output, _) = await RunAsync();

        exit.Should().Be(ExitCodes.BadInput);
        output.Should().Contain("validate");
    }

    [Fact(Timeout = 10_000)]
    public async Task RunAsync_Version_PrintsTheAssemblyVersion()
    {
        var (exit, output, _) = await RunAsync("--version");

        exit.Should().Be(ExitCodes.Success);
        output.Should().Be("0.1.0\n");
    }

    [Fact(Timeout = 10_000)]
    public async Task RunAsync_MisspeltCommand_SuggestsTheCommandAndExitsTwo()
    {
        var (exit, output, error) = await RunAsync("valdate");

        exit.Should().Be(ExitCodes.BadInput);
        output.Should().BeEmpty();
        error.Should().Be("gantry: unknown command 'valdate'; did you mean 'validate'?\nRun 'gantry --help' for usage.\n");
    }

    [Fact(Timeout = 10_000)]
    public async Task RunAsync_UnknownOption_NamesItAndExitsTwo()
    {
        var (exit, _, error) = await RunAsync("validate", "--strict");

        exit.Should().Be(ExitCodes.BadInput);
        error.Should().Contain("'--strict'").And.Contain("Run 'gantry validate --help' for usage.");
    }

    [Fact(Timeout = 10_000)]
    public async Task RunAsync_BadOutputFormat_ExitsTwo()
    {
        var (exit, _, error) = await RunAsync("validate", "--output", "xml");

        exit.Should().Be(ExitCodes.BadInput);
        error.Should().Contain("xml");
    }
}
