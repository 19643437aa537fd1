using System.CommandLine;
using System.Globalization;
using Gantry.Api;

namespace Gantry.Commands;

/// <summary><c>gantry cluster</c>: which replica of the store drives the rollouts, as the server asked sees it.</summary>
internal static class ClusterCommand
{
    public static Command Create()
    {
        var server = RolloutCommands.ServerOption();
        var output = CommonOptions.Output();
        var command = new Command("cluster", "Show which replica of the store drives the rollouts (its lease and fencing token), and what the server asked is.") { output, server };
        command.SetAction((parse, ct) => RolloutCommands.RunAsync(parse, server, async (api, writer) =>
        {
            var view = await api.ClusterAsync(ct);
            await RolloutCommands.WriteAsync(writer, parse.GetValue(output), view, Describe(view));
            return ExitCodes.Success;
        }));
        return command;
    }

    /// <summary>One line: the leader and its lease, and this server's part.</summary>
    public static string Describe(ClusterView view) => !view.Clustered
        ? $"{view.Replica} leads alone: its store is its own"
        : string.Create(CultureInfo.InvariantCulture, $"replica {view.Leader ?? "(none yet)"} leads")
          + (view.Token is { } token && view.LeaseExpiresAt is { } until ? string.Create(CultureInfo.InvariantCulture, $" (lease token {token}, held until {until.UtcDateTime:HH:mm:ss} UTC)") : string.Empty)
          + $"; this server is replica {view.Replica}, " + (view.Leading ? "the leader" : "standing by")
          + (view.Table is { } table ? string.Create(CultureInfo.InvariantCulture, $"\nrouter table {table}, published by {view.TablePublisher}") : string.Empty)
          + string.Concat(view.Replicas.Select(r => "\n  replica " + r.Name + ": " + Router(r)));

    private static string Router(ReplicaView replica) => string.Create(CultureInfo.InvariantCulture,
        $"{(replica.Alive ? "alive" : $"silent since {replica.SeenAt.UtcDateTime:HH:mm:ss} UTC")}, its router has table {replica.Table}{(replica.TableError is { } why ? $" ({why})" : string.Empty)}");
}
