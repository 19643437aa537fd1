using System.CommandLine;
using Gantry.Api;
using Gantry.Client;

namespace Gantry.Commands;

/// <summary><c>gantry approve</c>, <c>gantry reject</c> and <c>gantry approvals</c>: people's decisions on rollouts waiting for approval.</summary>
internal static class ApprovalCommands
{
    public static IEnumerable<Command> Create()
    {
        yield return Decide("approve", "Approve a rollout waiting for approval (you need the approver role there, in a group its rule names; not your own deploy).");
        yield return Decide("reject", "Reject a rollout waiting for approval: it ends without starting.");
        yield return Waiting();
    }

    private static Command Decide(string name, string description)
    {
        var server = RolloutCommands.ServerOption();
        var rollout = new Argument<string>("rollout") { Description = "The rollout's id (gantry status shows the ones waiting)." };
        var comment = new Option<string?>("--comment", "-m") { Description = name == "reject" ? "Why (required)." : "Why, for the record.", HelpName = "TEXT", Required = name == "reject" };
        var output = CommonOptions.Output();
        var command = new Command(name, description) { rollout, comment, output, server };
        command.SetAction((parse, ct) => RolloutCommands.RunAsync(parse, server, async (api, writer) =>
        {
            var id = parse.GetValue(rollout)!;
            var view = await api.DecideAsync(id, name, new CommandRequest(parse.GetValue(comment)), ct);
            var verb = name == "approve" ? "approved" : "rejected";
            await RolloutCommands.WriteAsync(writer, parse.GetValue(output), view, $"{verb} rollout {id} ({view.Service} {view.Version} to {view.Environment})\n{RolloutText.Approval(view).TrimEnd()}");
            return ExitCodes.Success;
        }));
        return command;
    }

    private static Command Waiting()
    {
        var server = RolloutCommands.ServerOption();
        var output = CommonOptions.Output();
        var command = new Command("approvals", "List the rollouts waiting for approval, and whether you can approve each.") { output, server };
        command.SetAction((parse, ct) => RolloutCommands.RunAsync(parse, server, async (api, writer) =>
        {
            var waiting = await api.ApprovalsAsync(ct);
            await RolloutCommands.WriteAsync(writer, parse.GetValue(output), waiting, waiting.Count == 0
                ? "no rollout is waiting for approval"
                : string.Join("\n", waiting.Select(a => $"{a.RolloutId}: {a.Service} {a.Version} to {a.Environment}, deployed by {a.RequestedBy}\n{RolloutText.Approval(a).TrimEnd()}")));
            return ExitCodes.Success;
        }));
        return command;
    }
}
