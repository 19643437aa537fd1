using System.CommandLine;
using System.Globalization;
using Gantry.Api;
using Gantry.Client;
using Spectre.Console;

namespace Gantry.Commands;

/// <summary>The commands that read what happened: analysis runs, history, instance logs.</summary>
internal static partial class RolloutCommands
{
    private static Command Analysis()
    {
        var server = ServerOption();
        var service = ServiceArgument();
        var env = EnvOption();
        var rollout = new Option<string?>("--rollout") { Description = "A rollout's id (default: the service's newest).", HelpName = "ID" };
        var output = CommonOptions.Output();
        var command = new Command("analysis", "Show the evidence behind a rollout's decisions: every measurement, condition, statistic and verdict.") { service, env, rollout, output, server };
        command.SetAction((parse, ct) => RunAsync(parse, server, async (api, writer) =>
        {
            var id = parse.GetValue(rollout)
                ?? (await api.ServiceRolloutAsync(parse.GetValue(service)!, parse.GetValue(env), ct)).Rollout.Id;
            var runs = await api.AnalysisAsync(id, ct);
            await WriteAsync(writer, parse.GetValue(output), runs, runs.Count == 0 ? $"rollout {id} has run no analysis" : RolloutText.Analysis(runs));
            return ExitCodes.Success;
        }));
        return command;
    }

    private static Command History()
    {
        var server = ServerOption();
        var service = ServiceArgument();
        var env = EnvOption();
        var limit = new Option<int>("--limit", "-n") { Description = "How many rollouts, newest first.", DefaultValueFactory = _ => 20 };
        var output = CommonOptions.Output();
        var command = new Command("history", "List a service's rollouts, newest first.") { service, env, limit, output, server };
        command.SetAction((parse, ct) => RunAsync(parse, server, async (api, writer) =>
        {
            var rollouts = await api.RolloutsAsync(parse.GetValue(service)!, parse.GetValue(env), parse.GetValue(limit), ct);
            await WriteAsync(writer, parse.GetValue(output), rollouts, string.Join("\n", rollouts.Select(r => string.Create(CultureInfo.InvariantCulture,
                $"{r.Id,-24} {r.Release.Version,-10} {r.Strategy,-10} {r.Phase,-11} {r.CreatedAt.UtcDateTime:yyyy-MM-dd HH:mm:ss}  {r.CreatedBy}  {(r.Emergency ? $"[EMERGENCY: {r.EmergencyReason}] " : string.Empty)}{r.Message}"))
                .Prepend($"{"ROLLOUT",-24} {"VERSION",-10} {"STRATEGY",-10} {"PHASE",-11} {"CREATED (UTC)",-19}  BY  MESSAGE")));
            return ExitCodes.Success;
        }));
        return command;
    }

    private static Command Logs()
    {
        var server = ServerOption();
        var service = ServiceArgument();
        var env = EnvOption();
        var version = new Option<string?>("--version", "-v") { Description = "Only the instances of this version.", HelpName = "VERSION" };
        var lines = new Option<int>("--lines", "-n") { Description = "How many of the last lines per instance.", DefaultValueFactory = _ => 100 };
        var follow = new Option<bool>("--follow", "-f") { Description = "Keep printing new lines." };
        var output = CommonOptions.Output();
        var command = new Command("logs", "Print what a service's instances wrote to stdout and stderr.") { service, env, version, lines, follow, output, server };
        command.SetAction((parse, ct) => RunAsync(parse, server, async (api, writer) =>
        {
            Task<List<InstanceLogs>> ReadAsync() => api.LogsAsync(parse.GetValue(service)!, parse.GetValue(env), parse.GetValue(version), parse.GetValue(lines), ct);
            if (parse.GetValue(output) == OutputFormat.Json)
            {
                await WriteAsync(writer, OutputFormat.Json, await ReadAsync(), string.Empty);
                return ExitCodes.Success;
            }

            var seen = new Dictionary<string, List<string>>(StringComparer.Ordinal);
            do
            {
                foreach (var instance in await ReadAsync())
                {
                    var previous = seen.GetValueOrDefault(instance.Instance) ?? [];
                    foreach (var line in NewLines(previous, instance.Lines))
                    {
                        await writer.WriteLineAsync($"{instance.Instance}: {line}");
                    }

                    seen[instance.Instance] = [.. instance.Lines];
                }

                if (parse.GetValue(follow))
                {
                    await Task.Delay(500, ct);
                }
            }
            while (parse.GetValue(follow) && !ct.IsCancellationRequested);
            return ExitCodes.Success;
        }));
        return command;
    }

    /// <summary>The lines of <paramref name="now"/> after the longest overlap with the end of <paramref name="before"/>.</summary>
    private static IEnumerable<string> NewLines(List<string> before, IReadOnlyList<string> now)
    {
        for (var overlap = Math.Min(before.Count, now.Count); overlap > 0; overlap--)
        {
            if (before.Skip(before.Count - overlap).SequenceEqual(now.Take(overlap)))
            {
                return now.Skip(overlap);
            }
        }

        return now;
    }
}
