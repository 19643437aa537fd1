using System.CommandLine;
using System.Globalization;
using System.Text;
using Gantry.Core.Checklists;

namespace Gantry.Commands;

/// <summary><c>gantry checklist ROLLOUT [--sign ITEM]</c>: a rollout's pre-deployment checklist, and signing an item off.</summary>
internal static class ChecklistCommand
{
    public static Command Create()
    {
        var server = RolloutCommands.ServerOption();
        var rollout = new Argument<string>("rollout") { Description = "The rollout, such as shop-production-3." };
        var sign = new Option<string?>("--sign") { Description = "Sign this sign-off item off, as you (recorded with the time).", HelpName = "ITEM" };
        var output = CommonOptions.Output();
        var command = new Command("checklist", "Show a rollout's pre-deployment checklist: every check and sign-off, and what the rollout waits for.") { rollout, sign, output, server };
        command.SetAction((parse, ct) => RolloutCommands.RunAsync(parse, server, async (api, writer) =>
        {
            var id = parse.GetValue(rollout)!;
            var record = parse.GetValue(sign) is { } item
                ? await api.SignOffAsync(id, item, ct)
                : await api.ChecklistAsync(id, ct);
            await RolloutCommands.WriteAsync(writer, parse.GetValue(output), record, Text(record));
            return ExitCodes.Success;
        }));
        return command;
    }

    internal static string Text(ChecklistRecord record)
    {
        var text = new StringBuilder();
        var waiting = record.Items.Where(i => i.Required && !i.Passed).Select(i => i.Name).ToList();
        text.AppendLine(CultureInfo.InvariantCulture, $"checklist of {record.RolloutId} ({record.Environment}): {(waiting.Count == 0 ? "passed" : $"waiting for {string.Join(", ", waiting)}")}");
        var width = record.Items.Select(i => i.Name.Length).DefaultIfEmpty(4).Max();
        foreach (var i in record.Items)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"  {(i.Passed ? "pass" : "FAIL")}  {i.Name.PadRight(width)}  {i.Kind,-7}  {i.Message}{(i.Required ? string.Empty : " (not required)")}");
        }

        return text.ToString().TrimEnd();
    }
}
