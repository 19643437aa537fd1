using System.CommandLine;
using System.Globalization;
using Gantry.Api;

namespace Gantry.Commands;

/// <summary><c>gantry freeze ENV --reason TEXT [--for 2h]</c> and <c>gantry unfreeze ENV</c>: one-off freezes, during an incident for example.</summary>
internal static class FreezeCommands
{
    public static IEnumerable<Command> Create()
    {
        yield return Freeze();
        yield return Unfreeze();
    }

    private static Command Freeze()
    {
        var server = RolloutCommands.ServerOption();
        var env = new Argument<string>("environment") { Description = "The environment to close to deploys." };
        var reason = new Option<string>("--reason") { Description = "Why (shown to everyone refused, and audited).", Required = true, HelpName = "TEXT" };
        var duration = new Option<string?>("--for") { Description = "For how long, such as 2h (default: until lifted with gantry unfreeze).", HelpName = "DURATION" };
        var output = CommonOptions.Output();
        var command = new Command("freeze", "Close an environment to deploys now (running rollouts go on), until lifted or for a while.") { env, reason, duration, output, server };
        command.SetAction((parse, ct) => RolloutCommands.RunAsync(parse, server, async (api, writer) =>
        {
            var name = parse.GetValue(env)!;
            var freeze = await api.FreezeAsync(name, new FreezeRequest(parse.GetValue(reason), parse.GetValue(duration)), ct);
            var until = freeze.Until is { } u ? string.Create(CultureInfo.InvariantCulture, $"until {u:yyyy-MM-dd HH:mm} UTC") : $"until lifted (gantry unfreeze {name})";
            await RolloutCommands.WriteAsync(writer, parse.GetValue(output), freeze, $"{name} is frozen {until}: {freeze.Reason}");
            return ExitCodes.Success;
        }));
        return command;
    }

    private static Command Unfreeze()
    {
        var server = RolloutCommands.ServerOption();
        var env = new Argument<string>("environment") { Description = "The environment to open again." };
        var output = CommonOptions.Output();
        var command = new Command("unfreeze", "Lift the freezes declared with gantry freeze (not those of the manifest).") { env, output, server };
        command.SetAction((parse, ct) => RolloutCommands.RunAsync(parse, server, async (api, writer) =>
        {
            var name = parse.GetValue(env)!;
            var lifted = await api.UnfreezeAsync(name, ct);
            await RolloutCommands.WriteAsync(writer, parse.GetValue(output), lifted, $"{name} is open again: lifted {string.Join("; ", lifted.Select(f => $"{f.By}'s freeze ({f.Reason})"))}");
            return ExitCodes.Success;
        }));
        return command;
    }
}
