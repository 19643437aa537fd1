using System.CommandLine;
using System.Globalization;
using System.Text;
using Gantry.Core.Audit;
using Gantry.Core.Manifest.Values;

namespace Gantry.Commands;

/// <summary><c>gantry audit</c>: the audit trail; <c>verify</c> re-computes its hash chain; <c>export</c> writes it as JSON lines.</summary>
internal static class AuditCommand
{
    public static Command Create(TimeProvider time)
    {
        var server = RolloutCommands.ServerOption();
        var service = new Option<string?>("--service", "-s") { Description = "Only events about this service.", HelpName = "SERVICE" };
        var env = new Option<string?>("--env", "-e") { Description = "With --service: only this environment.", HelpName = "ENV" };
        var since = new Option<string?>("--since") { Description = "Only events of the last DURATION, such as 7d or 12h.", HelpName = "DURATION" };
        var limit = new Option<int>("--limit", "-n") { Description = "At most this many events, the newest.", DefaultValueFactory = _ => 200, HelpName = "N" };
        var output = CommonOptions.Output();
        var command = new Command("audit", "The audit trail: who did what, when, from where and why, oldest first.") { service, env, since, limit, output, server };
        command.SetAction((parse, ct) => RolloutCommands.RunAsync(parse, server, async (api, writer) =>
        {
            var target = parse.GetValue(service) is { } s ? (parse.GetValue(env) is { } e ? $"{s}/{e}" : s) : null;
            DateTimeOffset? from = null;
            if (parse.GetValue(since) is { } text)
            {
                if (DurationSyntax.TryParse(text, out var span) is { } error)
                {
                    throw new Client.ApiException(ExitCodes.BadInput, $"--since '{text}': {error.Message}");
                }

                from = time.GetUtcNow() - span;
            }

            var events = await api.AuditAsync(target, from, parse.GetValue(limit), ct);
            await RolloutCommands.WriteAsync(writer, parse.GetValue(output), events, Text(events));
            return ExitCodes.Success;
        }));
        command.Subcommands.Add(Verify());
        command.Subcommands.Add(Export());
        return command;
    }

    private static Command Verify()
    {
        var server = RolloutCommands.ServerOption();
        var output = CommonOptions.Output();
        var command = new Command("verify", "Re-compute the audit trail's hash chain; exit 1 and name the first event that was edited, deleted, inserted or reordered.") { output, server };
        command.SetAction((parse, ct) => RolloutCommands.RunAsync(parse, server, async (api, writer) =>
        {
            var verdict = await api.VerifyAuditAsync(ct);
            await RolloutCommands.WriteAsync(writer, parse.GetValue(output), verdict, verdict.Intact ? verdict.Message : $"audit trail broken: {verdict.Message}");
            return verdict.Intact ? ExitCodes.Success : ExitCodes.Failed;
        }));
        return command;
    }

    private static Command Export()
    {
        var server = RolloutCommands.ServerOption();
        var command = new Command("export", "Write every audit event as a JSON line, oldest first.") { server };
        command.SetAction((parse, ct) => RolloutCommands.RunAsync(parse, server, async (api, writer) =>
        {
            using var reader = new StreamReader(await api.ExportAuditAsync(ct));
            while (await reader.ReadLineAsync(ct) is { } line)
            {
                await writer.WriteLineAsync(line);
            }

            return ExitCodes.Success;
        }));
        return command;
    }

    internal static string Text(IReadOnlyList<AuditEvent> events)
    {
        if (events.Count == 0)
        {
            return "no audit events";
        }

        var text = new StringBuilder();
        foreach (var e in events)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"{e.Seq,6}  {e.At:yyyy-MM-dd HH:mm:ss}  {e.Actor,-12} {e.Action,-24} {e.Target}  {e.Detail}{(e.Reason is { Length: > 0 } r ? $" (why: {r})" : string.Empty)}{(e.Source is { } s ? $" [from {s}]" : string.Empty)}{(e.Approvals is { } chain ? $" [approvals: {chain}]" : string.Empty)}");
        }

        return text.ToString().TrimEnd();
    }
}
