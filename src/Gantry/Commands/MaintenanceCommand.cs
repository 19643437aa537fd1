using System.CommandLine;
using Gantry.Api;

namespace Gantry.Commands;

/// <summary><c>gantry maintenance SERVICE on|off [--env ENV] [--message TEXT]</c>: the router answers 503 with the message (and Retry-After) until turned off.</summary>
internal static class MaintenanceCommand
{
    public static Command Create()
    {
        var server = RolloutCommands.ServerOption();
        var service = new Argument<string>("service") { Description = "The service." };
        var state = new Argument<string>("state") { Description = "on or off.", HelpName = "state" };
        state.AcceptOnlyFromAmong("on", "off");
        var env = new Option<string?>("--env", "-e") { Description = "The environment (default: the first).", HelpName = "ENV" };
        var message = new Option<string?>("--message", "-m") { Description = "What clients are told while it is on.", HelpName = "TEXT" };
        var output = CommonOptions.Output();
        var command = new Command("maintenance", "Put a service in maintenance (its router answers 503 with a message and Retry-After, its instances keep running) or take it out.") { service, state, env, message, output, server };
        command.SetAction((parse, ct) => RolloutCommands.RunAsync(parse, server, async (api, writer) =>
        {
            var name = parse.GetValue(service)!;
            if (parse.GetValue(state) == "on")
            {
                var on = await api.MaintenanceOnAsync(name, new MaintenanceRequest(parse.GetValue(env), parse.GetValue(message)), ct);
                await RolloutCommands.WriteAsync(writer, parse.GetValue(output), on, $"{on.Service} in {on.Environment} is in maintenance: clients get 503 and \"{on.Message}\" (gantry maintenance {on.Service} off to end it)");
                return ExitCodes.Success;
            }

            var off = await api.MaintenanceOffAsync(name, parse.GetValue(env), ct);
            await RolloutCommands.WriteAsync(writer, parse.GetValue(output), off, $"{off.Service} in {off.Environment} serves again (maintenance since {off.Since.UtcDateTime:yyyy-MM-dd HH:mm} UTC, by {off.By})");
            return ExitCodes.Success;
        }));
        return command;
    }
}
