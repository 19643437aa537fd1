using System.CommandLine;
using System.Globalization;

namespace Gantry.Commands;

/// <summary><c>gantry queue [SERVICE] [-e ENV]</c> lists the deploys waiting in line; <c>gantry queue cancel ID</c> takes one out.</summary>
internal static class QueueCommands
{
    public static Command Create()
    {
        var server = RolloutCommands.ServerOption();
        var service = new Argument<string?>("service") { Description = "Only this service's queue.", Arity = ArgumentArity.ZeroOrOne };
        var env = new Option<string?>("--env", "-e") { Description = "Only this environment's queue.", HelpName = "ENV" };
        var output = CommonOptions.Output();
        var command = new Command("queue", "List the deploys waiting behind an active rollout (deploy --queue), oldest first.") { service, env, output, server, Cancel() };
        command.SetAction((parse, ct) => RolloutCommands.RunAsync(parse, server, async (api, writer) =>
        {
            var queued = await api.QueueAsync(parse.GetValue(service), parse.GetValue(env), ct);
            var lines = queued.Count == 0
                ? "nothing waits in the queue"
                : string.Join('\n', queued.Select(q => string.Create(CultureInfo.InvariantCulture,
                    $"#{q.Id}  {q.Service} {q.Release.Version} to {q.Environment}, queued by {q.CreatedBy} at {q.CreatedAt:yyyy-MM-dd HH:mm} UTC")));
            await RolloutCommands.WriteAsync(writer, parse.GetValue(output), queued, lines);
            return ExitCodes.Success;
        }));
        return command;
    }

    private static Command Cancel()
    {
        var server = RolloutCommands.ServerOption();
        var id = new Argument<long>("id") { Description = "The queued deploy's number (#ID in gantry queue)." };
        var reason = new Option<string?>("--reason") { Description = "Why (audited).", HelpName = "TEXT" };
        var output = CommonOptions.Output();
        var command = new Command("cancel", "Take a queued deploy out of line before it starts.") { id, reason, output, server };
        command.SetAction((parse, ct) => RolloutCommands.RunAsync(parse, server, async (api, writer) =>
        {
            var number = parse.GetValue(id);
            var reasonText = parse.GetValue(reason);
            var cancelled = await api.CancelQueuedAsync(number, reasonText, ct);
            await RolloutCommands.WriteAsync(writer, parse.GetValue(output), cancelled,
                string.Create(CultureInfo.InvariantCulture, $"cancelled #{cancelled.Id}: {cancelled.Service} {cancelled.Release.Version} to {cancelled.Environment} will not start"));
            return ExitCodes.Success;
        }));
        return command;
    }
}
