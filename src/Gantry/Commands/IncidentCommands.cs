using System.CommandLine;
using System.Globalization;
using System.Text;
using Gantry.Api;
using Gantry.Core.Dora;

namespace Gantry.Commands;

/// <summary><c>gantry incident ...</c>, <c>gantry dora</c>, <c>gantry postmortem</c>, <c>gantry notifications</c>.</summary>
internal static class IncidentCommands
{
    public static IEnumerable<Command> Create()
    {
        var incident = new Command("incident", "Incidents: open one by hand, list them, show one, and move it through acknowledged, mitigated, resolved.");
        incident.Subcommands.Add(Open());
        incident.Subcommands.Add(List());
        incident.Subcommands.Add(Show());
        foreach (var (name, path, what) in new[] { ("ack", "acknowledge", "Acknowledge an incident: someone is on it (stops its escalation)."), ("mitigate", "mitigate", "Mark an incident mitigated: the impact is contained."), ("resolve", "resolve", "Resolve an incident: time to restore ends here.") })
        {
            incident.Subcommands.Add(Step(name, path, what));
        }

        yield return incident;
        yield return Dora();
        yield return SloCommand.Create();
        yield return PostmortemCommand();
        yield return Notifications();
    }

    private static Argument<string> IdArgument() => new("incident") { Description = "The incident, as INC-12 or 12." };

    private static Command Open()
    {
        var server = RolloutCommands.ServerOption();
        var title = new Option<string>("--title") { Description = "What is wrong.", Required = true, HelpName = "TEXT" };
        var severity = new Option<string>("--severity") { Description = "P0, P1, P2 or P3.", Required = true, HelpName = "P0-P3" };
        var service = new Option<string?>("--service") { Description = "The service affected.", HelpName = "SERVICE" };
        var env = new Option<string?>("--env", "-e") { Description = "Its environment (default: the manifest's first).", HelpName = "ENV" };
        var release = new Option<string?>("--release") { Description = "The release that caused it (with --service): it counts as a failed change.", HelpName = "VERSION" };
        var impact = new Option<string?>("--impact") { Description = "Who or what is affected.", HelpName = "TEXT" };
        var output = CommonOptions.Output();
        var command = new Command("open", "Open an incident by hand.") { title, severity, service, env, release, impact, output, server };
        command.SetAction((parse, ct) => RolloutCommands.RunAsync(parse, server, async (api, writer) =>
        {
            var view = await api.OpenIncidentAsync(new OpenIncidentRequest(parse.GetValue(title), parse.GetValue(severity), parse.GetValue(service), parse.GetValue(env), parse.GetValue(release), parse.GetValue(impact)), ct);
            await RolloutCommands.WriteAsync(writer, parse.GetValue(output), view, Text(view));
            return ExitCodes.Success;
        }));
        return command;
    }

    private static Command List()
    {
        var server = RolloutCommands.ServerOption();
        var service = new Option<string?>("--service") { Description = "Only this service.", HelpName = "SERVICE" };
        var env = new Option<string?>("--env", "-e") { Description = "Only this environment.", HelpName = "ENV" };
        var open = new Option<bool>("--open") { Description = "Only incidents not resolved yet." };
        var output = CommonOptions.Output();
        var command = new Command("list", "List incidents, newest first.") { service, env, open, output, server };
        command.SetAction((parse, ct) => RolloutCommands.RunAsync(parse, server, async (api, writer) =>
        {
            var incidents = await api.IncidentsAsync(parse.GetValue(service), parse.GetValue(env), parse.GetValue(open), ct);
            await RolloutCommands.WriteAsync(writer, parse.GetValue(output), incidents, string.Join("\n", incidents.Select(i => string.Create(CultureInfo.InvariantCulture,
                $"{i.Key,-8} {i.Severity,-3} {i.Status.ToString().ToLowerInvariant(),-12} {i.OpenedAt.UtcDateTime:yyyy-MM-dd HH:mm}  {(i.Service is null ? "-" : $"{i.Service}/{i.Environment}"),-20} {i.Title}"))
                .Prepend($"{"ID",-8} {"SEV",-3} {"STATUS",-12} {"OPENED (UTC)",-16}  {"SERVICE",-20} TITLE")));
            return ExitCodes.Success;
        }));
        return command;
    }

    private static Command Show()
    {
        var server = RolloutCommands.ServerOption();
        var id = IdArgument();
        var output = CommonOptions.Output();
        var command = new Command("show", "Show an incident: its state, targets, escalation and timeline.") { id, output, server };
        command.SetAction((parse, ct) => RolloutCommands.RunAsync(parse, server, async (api, writer) =>
        {
            var view = await api.IncidentAsync(parse.GetValue(id)!, ct);
            await RolloutCommands.WriteAsync(writer, parse.GetValue(output), view, Text(view));
            return ExitCodes.Success;
        }));
        return command;
    }

    private static Command Step(string name, string path, string description)
    {
        var server = RolloutCommands.ServerOption();
        var id = IdArgument();
        var note = new Option<string?>("--note", "-m") { Description = "A line for the timeline.", HelpName = "TEXT" };
        var output = CommonOptions.Output();
        var command = new Command(name, description) { id, note, output, server };
        command.SetAction((parse, ct) => RolloutCommands.RunAsync(parse, server, async (api, writer) =>
        {
            var view = await api.MoveIncidentAsync(parse.GetValue(id)!, path, new CommandRequest(parse.GetValue(note)), ct);
            await RolloutCommands.WriteAsync(writer, parse.GetValue(output), view, Text(view));
            return ExitCodes.Success;
        }));
        return command;
    }

    public static string Text(IncidentView view)
    {
        var i = view.Incident;
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"{i.Key} [{i.Severity}] {i.Status.ToString().ToLowerInvariant()}: {i.Title}");
        if (i.Service is not null)
        {
            var cause = i.CauseVersion is null ? string.Empty : $"; root cause: {i.CauseVersion}";
            var rollout = i.RolloutId is null ? string.Empty : $" (rollout {i.RolloutId})";
            text.AppendLine(CultureInfo.InvariantCulture, $"  service: {i.Service} in {i.Environment}{cause}{rollout}");
        }

        if (i.Impact is not null)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"  impact: {i.Impact}");
        }

        text.AppendLine(CultureInfo.InvariantCulture, $"  targets: {view.Targets}");
        if (view.NextEscalationAt is { } next)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"  escalates to {view.NextLevel} at {next.UtcDateTime:yyyy-MM-dd HH:mm:ss}Z unless acknowledged");
        }

        text.AppendLine("  timeline:");
        foreach (var e in view.Timeline)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"    {e.At.UtcDateTime:yyyy-MM-dd HH:mm:ss}Z  {e.Text}");
        }

        return text.ToString().TrimEnd();
    }

    private static Command Dora()
    {
        var server = RolloutCommands.ServerOption();
        var service = new Option<string?>("--service") { Description = "Only this service.", HelpName = "SERVICE" };
        var env = new Option<string?>("--env", "-e") { Description = "Only this environment.", HelpName = "ENV" };
        var since = new Option<string>("--since") { Description = "The period, back from now.", DefaultValueFactory = _ => "90d", HelpName = "DURATION" };
        var output = CommonOptions.Output();
        var command = new Command("dora", "DORA's four keys from Gantry's own records: deployment frequency, lead time, change failure rate, time to restore, with bands and a weekly trend.") { service, env, since, output, server };
        command.SetAction((parse, ct) => RolloutCommands.RunAsync(parse, server, async (api, writer) =>
        {
            var report = await api.DoraAsync(parse.GetValue(service), parse.GetValue(env), parse.GetValue(since)!, ct);
            await RolloutCommands.WriteAsync(writer, parse.GetValue(output), report, DoraText(report));
            return ExitCodes.Success;
        }));
        return command;
    }

    public static string DoraText(DoraReport r)
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"DORA metrics of {r.Service ?? "every service"} in {r.Environment ?? "every environment"}, {r.From.UtcDateTime:yyyy-MM-dd} to {r.To.UtcDateTime:yyyy-MM-dd}");
        foreach (var (name, metric) in new[] { ("deployment frequency", r.DeploymentFrequency), ("lead time", r.LeadTimeMedian), ("lead time p90", r.LeadTimeP90), ("change failure rate", r.ChangeFailureRate), ("time to restore", r.TimeToRestore) })
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"  {name,-21} {metric.Band?.ToString() ?? "no data",-7} {metric.Text}");
        }

        text.AppendLine(CultureInfo.InvariantCulture, $"  bands: {r.BandsFrom}");
        text.AppendLine("  week of      deploys  rollouts  failures  lead time (median)  time to restore (median)");
        foreach (var w in r.Weeks)
        {
            text.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"  {w.Start.UtcDateTime:yyyy-MM-dd}  {w.Deployments,7}  {w.Rollouts,8}  {(w.ChangeFailureRate is { } f ? $"{f * 100:0.#}%" : "-"),8}  {(w.LeadTimeMedianHours is { } l ? $"{l:0.#} h" : "-"),18}  {(w.TimeToRestoreMedianHours is { } t ? $"{t:0.#} h" : "-"),24}"));
        }

        return text.ToString().TrimEnd();
    }

    private static Command PostmortemCommand()
    {
        var server = RolloutCommands.ServerOption();
        var id = IdArgument();
        var file = new Option<string?>("--output-file", "-o") { Description = "Write it to this file instead of standard output.", HelpName = "FILE" };
        var command = new Command("postmortem", "Write a Markdown post-mortem skeleton of an incident: timeline, verdict evidence and metrics filled in.") { id, file, server };
        command.SetAction((parse, ct) => RolloutCommands.RunAsync(parse, server, async (api, writer) =>
        {
            var markdown = await api.PostmortemAsync(parse.GetValue(id)!, ct);
            if (parse.GetValue(file) is { } path)
            {
                await File.WriteAllTextAsync(path, markdown, ct);
                await writer.WriteLineAsync($"post-mortem written to {path}");
            }
            else
            {
                await writer.WriteAsync(markdown);
            }

            return ExitCodes.Success;
        }));
        return command;
    }

    private static Command Notifications()
    {
        var server = RolloutCommands.ServerOption();
        var dead = new Option<bool>("--dead") { Description = "Only dead letters: notifications no receiver took after every attempt." };
        var output = CommonOptions.Output();
        var command = new Command("notifications", "List notifications sent, waiting, or dead-lettered, newest first.") { dead, output, server };
        command.SetAction((parse, ct) => RolloutCommands.RunAsync(parse, server, async (api, writer) =>
        {
            var deliveries = await api.DeliveriesAsync(parse.GetValue(dead), ct);
            await RolloutCommands.WriteAsync(writer, parse.GetValue(output), deliveries, string.Join("\n", deliveries.Select(d => string.Create(CultureInfo.InvariantCulture,
                $"{d.Id,6}  {d.CreatedAt.UtcDateTime:yyyy-MM-dd HH:mm:ss}  {d.Receiver,-12} {d.Event,-24} {d.Status.ToString().ToLowerInvariant(),-9} attempts {d.Attempts}{(d.LastError is null ? string.Empty : $"  last error: {d.LastError}")}"))
                .Prepend($"{"ID",6}  {"CREATED (UTC)",-19}  {"RECEIVER",-12} {"EVENT",-24} {"STATUS",-9} ATTEMPTS")));
            return ExitCodes.Success;
        }));
        return command;
    }
}
