using System.CommandLine;
using System.Globalization;
using Gantry.Api;

namespace Gantry.Commands;

/// <summary><c>gantry traffic pause|resume SERVICE [--env ENV] [--max 30s]</c>: new requests held in the router (each up to --max, then 503) until resumed.</summary>
internal static class TrafficCommand
{
    public static Command Create()
    {
        var command = new Command("traffic", "Hold a service's new requests in its router (for a quick switch-over without errors) or release them.");
        command.Subcommands.Add(Pause());
        command.Subcommands.Add(Resume());
        return command;
    }

    private static Command Pause()
    {
        var server = RolloutCommands.ServerOption();
        var service = new Argument<string>("service") { Description = "The service." };
        var env = new Option<string?>("--env", "-e") { Description = "The environment (default: the first).", HelpName = "ENV" };
        var max = new Option<string?>("--max") { Description = "How long each request may be held before it is answered 503 (default 30s, at most 10m).", HelpName = "DURATION" };
        var output = CommonOptions.Output();
        var command = new Command("pause", "Hold new requests to a service in its router until 'gantry traffic resume' (each up to --max).") { service, env, max, output, server };
        command.SetAction((parse, ct) => RolloutCommands.RunAsync(parse, server, async (api, writer) =>
        {
            var paused = await api.PauseAsync(parse.GetValue(service)!, new PauseRequest(parse.GetValue(env), parse.GetValue(max)), ct);
            await RolloutCommands.WriteAsync(writer, parse.GetValue(output), paused, string.Create(CultureInfo.InvariantCulture,
                $"new requests to {paused.Service} in {paused.Environment} are held, each up to {paused.MaxWait.TotalSeconds:0.###} s (gantry traffic resume {paused.Service} releases them)"));
            return ExitCodes.Success;
        }));
        return command;
    }

    private static Command Resume()
    {
        var server = RolloutCommands.ServerOption();
        var service = new Argument<string>("service") { Description = "The service." };
        var env = new Option<string?>("--env", "-e") { Description = "The environment (default: the first).", HelpName = "ENV" };
        var output = CommonOptions.Output();
        var command = new Command("resume", "Release the held requests of a service and serve again.") { service, env, output, server };
        command.SetAction((parse, ct) => RolloutCommands.RunAsync(parse, server, async (api, writer) =>
        {
            var resumed = await api.ResumeAsync(parse.GetValue(service)!, parse.GetValue(env), ct);
            await RolloutCommands.WriteAsync(writer, parse.GetValue(output), resumed, $"{resumed.Service} in {resumed.Environment} serves again (paused since {resumed.Since.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC, by {resumed.By})");
            return ExitCodes.Success;
        }));
        return command;
    }
}
