using System.CommandLine;
using System.Text.Json;
using Gantry.Api;
using Gantry.Client;
using Gantry.Core.Rollouts;
using Spectre.Console;

namespace Gantry.Commands;

/// <summary>The client commands: deploy, status, promote, abort, pause, resume, retry, rollback, history, logs.</summary>
internal static partial class RolloutCommands
{
    internal const string DataOptionName = "--data";

    /// <summary>Every command that talks to a server also takes --data: the server's data directory, whose admin token it then uses.</summary>
    internal static Option<string?> DataOption() => new(DataOptionName) { Description = "A local server's data directory: use its admin token (default: GANTRY_TOKEN, the config file, or .gantry/admin.token here).", HelpName = "DIR" };

    internal static Option<string?> ServerOption() => new("--server") { Description = $"The gantry server (default: ${ApiClient.ServerVariable} or http://127.0.0.1:7700).", HelpName = "URL" };

    private static Option<string?> EnvOption() => new("--env", "-e") { Description = "The environment (default: the manifest's first).", HelpName = "ENV" };

    private static Argument<string> ServiceArgument() => new("service") { Description = "The service, as named in the manifest." };

    public static IEnumerable<Command> Create()
    {
        yield return Deploy();
        yield return PromoteRelease();
        yield return Status();
        foreach (var (name, description) in new[]
        {
            ("promote", "Move a rollout past its current step (--full: skip every remaining step)."),
            ("abort", "Stop a rollout: all traffic back to the stable release at once."),
            ("pause", "Hold a rollout where it is."),
            ("resume", "Go on with a paused rollout."),
            ("retry", "Start an aborted or failed rollout again from its first step."),
        })
        {
            yield return Action(name, description);
        }

        yield return Analysis();
        yield return Rollback();
        yield return History();
        yield return Logs();
    }

    internal static async Task<int> RunAsync(ParseResult parse, Option<string?> server, Func<GantryClient, TextWriter, Task<int>> body)
    {
        var error = parse.InvocationConfiguration.Error;
        try
        {
            try
            {
                using var api = ApiClient.Connect(parse.GetValue(server), parse.GetValue<string?>(DataOptionName));
                return await body(api, parse.InvocationConfiguration.Output);
            }
            catch (ApiCallException ex)
            {
                throw ApiClient.Explain(ex);
            }
        }
        catch (ApiException ex)
        {
            await error.WriteLineAsync($"gantry: {ex.Message}");
            return ex.ExitCode;
        }
    }

    private static Command Deploy()
    {
        var server = ServerOption();
        var service = ServiceArgument();
        var version = new Option<string>("--version", "-v") { Description = "The version to deploy: what {version} becomes in the manifest.", Required = true, HelpName = "VERSION" };
        var env = EnvOption();
        var set = new Option<string[]>("--set") { Description = "A variable for the release's instances, KEY=VALUE (repeatable).", HelpName = "KEY=VALUE", AllowMultipleArgumentsPerToken = false };
        var wait = new Option<bool>("--wait", "-w") { Description = "Follow the rollout until it ends; exit 1 if it does not succeed." };
        var queue = new Option<bool>("--queue") { Description = "If another rollout of the service is active, wait in line instead of being refused." };
        var secret = new Option<string[]>("--secret") { Description = "A secret variable, KEY=VALUE or KEY (its value from this environment's KEY); passed to the instances, never shown (repeatable).", HelpName = "KEY[=VALUE]", AllowMultipleArgumentsPerToken = false };
        var emergency = new Option<bool>("--emergency") { Description = "Deploy past deployment windows, freezes and soak (needs the emergency role and --reason; recorded as an emergency everywhere)." };
        var reason = new Option<string?>("--reason", "-m") { Description = "Why (required with --emergency).", HelpName = "TEXT" };
        var output = CommonOptions.Output();
        var command = new Command("deploy", "Roll a new version of a service out with its strategy.") { service, version, env, set, secret, wait, queue, emergency, reason, output, server };
        command.SetAction((parse, ct) => RunAsync(parse, server, async (api, writer) =>
        {
            var variables = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var pair in parse.GetValue(set) ?? [])
            {
                var at = pair.IndexOf('=', StringComparison.Ordinal);
                if (at <= 0)
                {
                    throw new ApiException(ExitCodes.BadInput, $"--set '{pair}': expected KEY=VALUE");
                }

                variables[pair[..at]] = pair[(at + 1)..];
            }

            var secrets = new List<string>();
            foreach (var pair in parse.GetValue(secret) ?? [])
            {
                var at = pair.IndexOf('=', StringComparison.Ordinal);
                var key = at < 0 ? pair : pair[..at];
                var value = at < 0 ? Environment.GetEnvironmentVariable(key) : pair[(at + 1)..];
                if (key.Length == 0 || value is null)
                {
                    throw new ApiException(ExitCodes.BadInput, at < 0 ? $"--secret {key}: no variable {key} in this environment to take its value from" : $"--secret: expected KEY=VALUE or KEY");
                }

                variables[key] = value;
                secrets.Add(key);
            }

            var request = new DeployRequest(parse.GetValue(service)!, parse.GetValue(version)!, parse.GetValue(env), variables, Queue: parse.GetValue(queue),
                Emergency: parse.GetValue(emergency), Reason: parse.GetValue(reason), Secret: secrets);
            var answer = await api.DeployAsync(request, ct);
            if (parse.GetValue(output) == OutputFormat.Json && !parse.GetValue(wait))
            {
                // The answer as it came, as status --output json shows it (and the native client, which builds no types).
                await WriteJsonAsync(writer, answer.Json);
                return ExitCodes.Success;
            }

            if (answer.Queued is { } queued)
            {
                await WriteAsync(writer, parse.GetValue(output), queued, $"{queued.Service} {queued.Release.Version} queued in {queued.Environment} (#{queued.Id}): it starts when the active rollout ends");
                if (!parse.GetValue(wait))
                {
                    return ExitCodes.Success;
                }

                var started = await WaitForQueuedAsync(api, queued, ct);
                return await FollowAsync(api, started, writer, parse.GetValue(output), ct);
            }

            var view = answer.Rollout!;
            if (parse.GetValue(wait))
            {
                return await FollowAsync(api, view.Rollout.Id, writer, parse.GetValue(output), ct);
            }

            await WriteAsync(writer, parse.GetValue(output), view, $"{RolloutText.Headline(view.Rollout)}\n  {view.Rollout.Message}\n  follow it: gantry status {view.Rollout.Service} --watch");
            return ExitCodes.Success;
        }));
        return command;
    }

    /// <summary>A release that passed an environment goes on to the next one, under that one's promotion rule (succeeded there, soaked).</summary>
    private static Command PromoteRelease()
    {
        var server = ServerOption();
        var service = ServiceArgument();
        var version = new Argument<string>("version") { Description = "The release, as deployed before." };
        var to = new Option<string>("--to") { Description = "The environment it goes to.", Required = true, HelpName = "ENV" };
        var wait = new Option<bool>("--wait", "-w") { Description = "Follow the rollout until it ends; exit 1 if it does not succeed." };
        var output = CommonOptions.Output();
        var command = new Command("promote-release", "Deploy a release to the next environment of its promotion lifecycle (it must have succeeded and soaked in the previous one).") { service, version, to, wait, output, server };
        command.SetAction((parse, ct) => RunAsync(parse, server, async (api, writer) =>
        {
            var view = await api.StartAsync(new DeployRequest(parse.GetValue(service)!, parse.GetValue(version)!, parse.GetValue(to)), ct);
            return await AnswerAsync(api, view, parse.GetValue(wait), writer, parse.GetValue(output), ct);
        }));
        return command;
    }

    private static Command Status()
    {
        var server = ServerOption();
        var service = new Argument<string?>("service") { Description = "The service (all services when left out).", Arity = ArgumentArity.ZeroOrOne };
        var env = EnvOption();
        var watch = new Option<bool>("--watch", "-w") { Description = "Follow the service's rollout until it ends." };
        var output = CommonOptions.Output();
        var command = new Command("status", "Show services, or a service's newest rollout: steps, traffic split, instances, analysis.") { service, env, watch, output, server };
        command.SetAction((parse, ct) => RunAsync(parse, server, async (api, writer) =>
        {
            if (parse.GetValue(service) is not { } name)
            {
                var services = await api.ServicesAsync(ct);
                var waiting = await api.ApprovalsAsync(ct);
                var table = string.Join("\n", services.SelectMany(s =>
                    s.Environments.Select(e => $"{s.Name,-16} {e.Name,-12} {e.Stable ?? "-",-12} {(e.LatestRollout is null ? "never deployed" : $"{e.LatestRollout} {e.Phase}")}"
                        + (e.Maintenance is { } down ? $"  IN MAINTENANCE: {down}" : string.Empty)
                        + (e.Paused is { } held ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $"  REQUESTS PAUSED (each held up to {held.TotalSeconds:0.###} s)") : string.Empty)))
                    .Prepend($"{"SERVICE",-16} {"ENV",-12} {"STABLE",-12} LATEST ROLLOUT"));
                if (waiting.Count > 0)
                {
                    table += "\n\nawaiting approval:\n" + string.Join("\n", waiting.Select(a =>
                        $"  {a.RolloutId}: {a.Service} {a.Version} to {a.Environment}, deployed by {a.RequestedBy}: {a.Status?.Message}\n"
                        + (a.CanDecide ? $"    you can approve it: gantry approve {a.RolloutId} --comment TEXT" : $"    you cannot approve it: {a.CannotDecide}")));
                }

                await WriteAsync(writer, parse.GetValue(output), services, table);
                return ExitCodes.Success;
            }

            if (parse.GetValue(output) == OutputFormat.Json && !parse.GetValue(watch))
            {
                await WriteJsonAsync(writer, await api.ServiceRolloutJsonAsync(name, parse.GetValue(env), ct));
                return ExitCodes.Success;
            }

            var view = await api.ServiceRolloutAsync(name, parse.GetValue(env), ct);
            if (parse.GetValue(watch))
            {
                return await FollowAsync(api, view.Rollout.Id, writer, parse.GetValue(output), ct);
            }

            var approval = view.Rollout.AwaitsApproval ? await api.ApprovalAsync(view.Rollout.Id, ct) : null;
            await WriteAsync(writer, parse.GetValue(output), view, (RolloutText.Plain(view) + (approval is null ? string.Empty : RolloutText.Approval(approval))).TrimEnd());
            return ExitCodes.Success;
        }));
        return command;
    }

    private static Command Action(string name, string description)
    {
        var server = ServerOption();
        var service = ServiceArgument();
        var env = EnvOption();
        var reason = new Option<string?>("--reason", "-m") { Description = "Why, for the record.", HelpName = "TEXT" };
        var full = new Option<bool>("--full") { Description = "Skip every remaining step and analysis." };
        var wait = new Option<bool>("--wait", "-w") { Description = "Follow the rollout until it ends." };
        var output = CommonOptions.Output();
        var command = new Command(name, description) { service, env, reason, wait, output, server };
        if (name == "promote")
        {
            command.Options.Add(full);
        }

        command.SetAction((parse, ct) => RunAsync(parse, server, async (api, writer) =>
        {
            var view = await api.CommandAsync(parse.GetValue(service)!, name, parse.GetValue(env), new CommandRequest(parse.GetValue(reason), name == "promote" && parse.GetValue(full)), ct);
            return await AnswerAsync(api, view, parse.GetValue(wait), writer, parse.GetValue(output), ct);
        }));
        return command;
    }

    private static Command Rollback()
    {
        var server = ServerOption();
        var service = ServiceArgument();
        var env = EnvOption();
        var to = new Option<string?>("--to") { Description = "The version to go back to (default: the previous release).", HelpName = "VERSION" };
        var reason = new Option<string?>("--reason", "-m") { Description = "Why, for the record.", HelpName = "TEXT" };
        var wait = new Option<bool>("--wait", "-w") { Description = "Follow the rollback until it ends." };
        var steps = new Option<string?>("--steps") { Description = "Move traffic back in steps: the share left on the current release at each step, falling to 0 (for example 50%,0%).", HelpName = "SHARES" };
        var every = new Option<string?>("--every") { Description = "How long each step of --steps holds (default 1m).", HelpName = "DURATION" };
        var analysis = new Option<string?>("--analysis") { Description = "Analysis templates run at each step of --steps on the earlier release; a failure holds the rollback for a person.", HelpName = "TEMPLATES" };
        var output = CommonOptions.Output();
        var command = new Command("rollback", "Go back to the previous release (or --to VERSION): instant while its instances still run, or in steps with --steps.") { service, env, to, reason, steps, every, analysis, wait, output, server };
        command.SetAction((parse, ct) => RunAsync(parse, server, async (api, writer) =>
        {
            var request = new RollbackRequest(parse.GetValue(env), parse.GetValue(to), parse.GetValue(reason)) { Steps = parse.GetValue(steps), Every = parse.GetValue(every), Analysis = parse.GetValue(analysis) };
            var view = await api.RollbackAsync(parse.GetValue(service)!, request, ct);
            return await AnswerAsync(api, view, parse.GetValue(wait), writer, parse.GetValue(output), ct);
        }));
        return command;
    }

    internal static async Task WriteAsync<T>(TextWriter writer, OutputFormat format, T value, string text) =>
        await writer.WriteLineAsync(format == OutputFormat.Json ? JsonSerializer.Serialize(value, GantryJson.Indented) : text);

    /// <summary>An answer shown as it came, indented as <see cref="WriteAsync"/> indents (<see cref="JsonText"/>).</summary>
    internal static Task WriteJsonAsync(TextWriter writer, string json) => writer.WriteLineAsync(JsonText.Indent(json));

    /// <summary>After a command: follow the rollout (<c>--wait</c>), or say where it is now.</summary>
    private static async Task<int> AnswerAsync(GantryClient api, RolloutView view, bool wait, TextWriter writer, OutputFormat format, CancellationToken ct)
    {
        if (wait)
        {
            return await FollowAsync(api, view.Rollout.Id, writer, format, ct);
        }

        await WriteAsync(writer, format, view, $"{RolloutText.Headline(view.Rollout)}\n  {view.Rollout.Message}");
        return ExitCodes.Success;
    }

    /// <summary>Waits until a queued deploy has left the queue; returns the rollout it became.</summary>
    private static async Task<string> WaitForQueuedAsync(GantryClient api, QueuedDeploy queued, CancellationToken ct)
    {
        while ((await api.QueueAsync(queued.Service, queued.Environment, ct)).Any(q => q.Id == queued.Id))
        {
            await Task.Delay(300, ct);
        }

        var rollouts = await api.RolloutsAsync(queued.Service, queued.Environment, 20, ct);
        return rollouts.FirstOrDefault(r => r.Release.Version == queued.Release.Version && r.CreatedAt >= queued.CreatedAt)?.Id
            ?? throw new ApiException(ExitCodes.Failed, $"the queued deploy of {queued.Service} {queued.Release.Version} was dropped: its version was already running");
    }

    /// <summary>Follows a rollout until it ends: a live view on a terminal, timestamped event lines otherwise. Exit 0 only on success.</summary>
    private static async Task<int> FollowAsync(GantryClient api, string id, TextWriter writer, OutputFormat format, CancellationToken ct)
    {
        RolloutView view;
        if (format == OutputFormat.Text && ReferenceEquals(writer, Console.Out) && !Console.IsOutputRedirected)
        {
            view = await api.RolloutAsync(id, ct);
            await AnsiConsole.Live(RolloutText.Live(view)).StartAsync(async live =>
            {
                while (!view.Rollout.Phase.IsTerminal())
                {
                    await Task.Delay(300, ct);
                    view = await api.RolloutAsync(id, ct);
                    live.UpdateTarget(RolloutText.Live(view));
                }
            });
        }
        else
        {
            await foreach (var e in api.EventsAsync(id, ct))
            {
                if (format == OutputFormat.Text)
                {
                    await writer.WriteLineAsync(RolloutText.Event(e));
                }

                if (RolloutEventTypes.Parse(e.Type)?.EndsRollout() == true)
                {
                    break;
                }
            }

            view = await api.RolloutAsync(id, ct);
        }

        await WriteAsync(writer, format, view, $"{RolloutText.Headline(view.Rollout)}\n  {view.Rollout.Message}\n  traffic: {RolloutText.Split(view)}");
        return view.Rollout.Phase == RolloutPhase.Succeeded ? ExitCodes.Success : ExitCodes.Failed;
    }
}
