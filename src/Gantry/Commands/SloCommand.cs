using System.CommandLine;
using System.Globalization;
using System.Text;
using Gantry.Api;
using Gantry.Core.Manifest.Values;

namespace Gantry.Commands;

/// <summary><c>gantry slo [SERVICE]</c>: the standing objectives, the error budget left and how fast it burns.</summary>
internal static class SloCommand
{
    public static Command Create()
    {
        var server = RolloutCommands.ServerOption();
        var service = new Argument<string?>("SERVICE") { Description = "Only this service.", Arity = ArgumentArity.ZeroOrOne };
        var output = CommonOptions.Output();
        var command = new Command("slo", "Show the standing service level objectives: the share of good requests over each period, the error budget left, and each burn-rate alert.") { service, output, server };
        command.SetAction((parse, ct) => RolloutCommands.RunAsync(parse, server, async (api, writer) =>
        {
            var slos = await api.SlosAsync(parse.GetValue(service), ct);
            await RolloutCommands.WriteAsync(writer, parse.GetValue(output), slos, Text(slos));
            return ExitCodes.Success;
        }));
        return command;
    }

    public static string Text(IReadOnlyList<SloView> slos)
    {
        if (slos.Count == 0)
        {
            return "no objectives: give a service 'slos' in the manifest (and deploy it)";
        }

        var text = new StringBuilder();
        foreach (var group in slos.GroupBy(s => (s.Service, s.Environment)))
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"{group.Key.Service} in {group.Key.Environment}");
            foreach (var view in group)
            {
                var s = view.Status;
                var good = s.Sli == Core.Manifest.SliKind.Latency && view.Threshold is { } t ? $"answered within {DurationSyntax.Format(t)}" : "answered without a server error";
                text.AppendLine(string.Create(CultureInfo.InvariantCulture,
                    $"  {s.Name}: {Percent(s.Objective)} of requests {good} over {DurationSyntax.Format(s.Period)}"));
                var left = string.Create(CultureInfo.InvariantCulture, $"error budget left {s.BudgetLeft * 100:0.#}%");
                text.AppendLine(s.Attained is { } a
                    ? string.Create(CultureInfo.InvariantCulture, $"    {Percent(a)} of {s.Total:N0} requests good; {left}")
                    : $"    no requests yet; {left}");
                foreach (var alert in s.Alerts)
                {
                    text.AppendLine(string.Create(CultureInfo.InvariantCulture,
                        $"    burn {Burn(alert.LongWindow)} over {DurationSyntax.Format(alert.Rule.LongWindow)}, {Burn(alert.ShortWindow)} over {DurationSyntax.Format(alert.Rule.ShortWindow)}; alert at {alert.Rule.BurnRate:0.##}x ({alert.Rule.Severity}): {(alert.Firing ? "FIRING" : "ok")}"));
                }
            }
        }

        return text.ToString().TrimEnd();
    }

    private static string Burn(Core.Slo.BurnWindow w) => w.BurnRate is { } b ? string.Create(CultureInfo.InvariantCulture, $"{b:0.##}x") : "-";

    private static string Percent(double fraction) => string.Create(CultureInfo.InvariantCulture, $"{fraction * 100:0.###}%");
}
