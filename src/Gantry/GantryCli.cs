using System.CommandLine;
using System.CommandLine.Invocation;
using System.Reflection;
using Gantry.Commands;
using Gantry.Demo;

namespace Gantry;

/// <summary>Builds the command tree and runs it. Parse errors exit with <see cref="ExitCodes.BadInput"/>.</summary>
public static class GantryCli
{
    /// <summary>Gantry's version: the informational version of this assembly, without build metadata.</summary>
    public static string Version { get; } =
        (typeof(GantryCli).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0").Split('+')[0];

    /// <summary>
    /// The top-level commands in the order help lists them, by the factory that makes them and the names it makes (a test
    /// holds the names to the factories). A command line builds only the group its first word names.
    /// </summary>
    private static readonly (string[] Names, Func<TimeProvider, IEnumerable<Command>> Create)[] Groups =
    [
        (["validate"], _ => [ValidateCommand.Create()]),
        (["schema"], _ => [SchemaCommand.Create()]),
        (["demo"], time => [DemoCommand.Create(time)]),
        (["router"], time => [RouterCommand.Create(time)]),
        (["server"], time => [ServerCommand.Create(time)]),
        (["down"], time => [DownCommand.Create(time)]),
        (["gate"], _ => [GateCommand.Create()]),
        (["checklist"], _ => [ChecklistCommand.Create()]),
        (["audit"], time => [AuditCommand.Create(time)]),
        (["token"], _ => [TokenCommand.Create()]),
        (["deploy", "promote-release", "status", "promote", "abort", "pause", "resume", "retry", "analysis", "rollback", "history", "logs"], _ => RolloutCommands.Create()),
        (["freeze", "unfreeze"], _ => FreezeCommands.Create()),
        (["approve", "reject", "approvals"], _ => ApprovalCommands.Create()),
        (["incident", "dora", "slo", "postmortem", "notifications"], _ => IncidentCommands.Create()),
        (["queue"], _ => [QueueCommands.Create()]),
        (["maintenance"], _ => [MaintenanceCommand.Create()]),
        (["traffic"], _ => [TrafficCommand.Create()]),
        (["backup", "restore"], time => BackupCommands.Create(time)),
        (["store"], time => [StoreCommand.Create(time)]),
        (["cluster"], _ => [ClusterCommand.Create()]),
    ];

    /// <summary>The names of the top-level commands, by group, as <see cref="Build"/> declares them.</summary>
    public static IReadOnlyList<IReadOnlyList<string>> GroupNames => [.. Groups.Select(g => (IReadOnlyList<string>)g.Names)];

    /// <summary>
    /// The command tree. With <paramref name="only"/> the name of a top-level command, only the group that makes it is
    /// built: a command starts without constructing the thirty others (their options, arguments and actions).
    /// </summary>
    public static RootCommand Build(TimeProvider? time = null, string? only = null)
    {
        var clock = time ?? TimeProvider.System;
        var root = new RootCommand("Gantry: deployment orchestration and progressive delivery.");
        var groups = Groups.Where(g => g.Names.Contains(only, StringComparer.Ordinal)).ToList() is { Count: 1 } one ? one : [.. Groups];
        foreach (var command in groups.SelectMany(g => g.Create(clock)))
        {
            root.Subcommands.Add(command);
        }

        foreach (var command in All(root).Where(c => c.Options.Any(o => o.Name == "--server") && !c.Options.Any(o => o.Name == RolloutCommands.DataOptionName)))
        {
            command.Options.Add(RolloutCommands.DataOption());
        }

        // The default prints the entry assembly's version, which is not Gantry's when hosted elsewhere.
        foreach (var option in root.Options.OfType<VersionOption>())
        {
            option.Action = new PrintVersion();
        }

        return root;
    }

    private static IEnumerable<Command> All(Command command) => command.Subcommands.SelectMany(All).Prepend(command);

    private sealed class PrintVersion : SynchronousCommandLineAction
    {
        public override int Invoke(ParseResult parseResult)
        {
            parseResult.InvocationConfiguration.Output.WriteLine(Version);
            return ExitCodes.Success;
        }
    }

    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        if (args is ["--version"])
        {
            // Answered before the command tree is built: scripts ask it often, and it needs none of it.
            await output.WriteLineAsync(Version);
            return ExitCodes.Success;
        }

        var root = Build(only: args.Length > 0 ? args[0] : null);
        var parse = root.Parse(args);
        // Ctrl+C and SIGTERM come in as cancellationToken (Program): a server or router stopping takes the time it
        // needs (draining, closing the store), not the two seconds after which the parser would end the process.
        var config = new InvocationConfiguration { Output = output, Error = error, ProcessTerminationTimeout = null };
        if (args.Length == 0)
        {
            await root.Parse(["--help"]).InvokeAsync(config, cancellationToken);
            return ExitCodes.BadInput;
        }

        if (parse.Errors.Count > 0)
        {
            var unknown = parse.UnmatchedTokens.Count > 0 ? parse.UnmatchedTokens[0] : null;
            var messages = parse.Errors.Select(e => e.Message).ToList();
            if (unknown is not null && parse.CommandResult.Command == root)
            {
                // "Required command was not provided" only repeats the real problem: the unknown word.
                var hint = Core.Manifest.Suggestions.Closest(unknown, root.Subcommands.Select(c => c.Name));
                messages = [$"unknown command '{unknown}'" + (hint is null ? string.Empty : $"; did you mean '{hint}'?")];
            }

            foreach (var message in messages)
            {
                await error.WriteLineAsync($"gantry: {message}");
            }

            await error.WriteLineAsync($"Run 'gantry {string.Join(' ', CommandPath(parse))} --help' for usage.".Replace("  ", " ", StringComparison.Ordinal));
            return ExitCodes.BadInput;
        }

        return await parse.InvokeAsync(config, cancellationToken);
    }

    private static Stack<string> CommandPath(ParseResult parse)
    {
        var names = new Stack<string>();
        for (var c = parse.CommandResult; c?.Parent is System.CommandLine.Parsing.CommandResult parent; c = parent)
        {
            names.Push(c.Command.Name);
        }

        return names;
    }
}
