using System.CommandLine;
using Gantry.Proxy.Control;
using Gantry.Runtime.Process;
using Gantry.Server;

namespace Gantry.Commands;

/// <summary><c>gantry down</c>: stops the data plane a detached server leaves running: its instances, then its router.</summary>
internal static class DownCommand
{
    public static Command Create(TimeProvider time)
    {
        var file = CommonOptions.File();
        var data = new Option<string?>("--data") { Description = "The data directory (default: .gantry beside the manifest).", HelpName = "DIR" };
        var command = new Command("down", "Stop the router and the instances a server left serving (its data plane), after the server itself has stopped.") { file, data };
        command.SetAction(async (parse, ct) =>
        {
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            var dataDir = parse.GetValue(data) ?? ServerCommand.DefaultDataDirectory(parse.GetValue(file)!);
            if (IsLocked(dataDir))
            {
                await error.WriteLineAsync($"gantry: a gantry server is using {dataDir}: stop it first (it would start the data plane again)");
                return ExitCodes.Failed;
            }

            var stopped = await Orphans.StopAsync(GantryServer.OwnerOf(dataDir), TimeSpan.FromSeconds(30), time, ct);
            var (containers, services) = await RemoveContainersAsync(GantryServer.OwnerOf(dataDir), time, ct);
            var records = Path.Combine(dataDir, "instances");
            if (Directory.Exists(records))
            {
                Directory.Delete(records, recursive: true);
            }

            var files = new RouterFiles(dataDir);
            // The spare first: it would take over from the router stopped next.
            var spare = await RouterSpare.StopAsync(files, time, ct);
            var router = files.LivePid();
            if (router is { } pid)
            {
                using var process = System.Diagnostics.Process.GetProcessById(pid);
                _ = Orphans.Signal(pid, 15);
                using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(40), time);
                await process.WaitForExitAsync(wait.Token);
            }

            await output.WriteLineAsync($"gantry down: {stopped} instance process(es) stopped{(containers > 0 ? $" ({containers} container(s) removed)" : string.Empty)}{(services > 0 ? $" ({services} swarm service(s) removed)" : string.Empty)}; " + (router is null ? "no router was running" : $"router pid {router} stopped") + (spare is null ? string.Empty : $" (and its spare, pid {spare})"));
            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>Removes the containers this data directory's server made, and its swarm services when the engine is a swarm's manager (no engine reachable is not an error).</summary>
    private static async Task<(int Containers, int Services)> RemoveContainersAsync(string owner, TimeProvider time, CancellationToken ct)
    {
        using var engine = Runtime.Docker.DockerEngine.FromEnvironment();
        try
        {
            var containers = await Runtime.Docker.DockerLauncher.RemoveAllAsync(engine, owner, ct);
            var services = await engine.NotAManagerAsync(ct) is null ? await Runtime.Swarm.SwarmRuntime.RemoveAllAsync(engine, owner, time, ct) : 0;
            return (containers, services);
        }
        catch (Exception ex) when (Runtime.Docker.DockerEngine.IsUnreachable(ex))
        {
            return (0, 0);
        }
    }

    internal static bool IsLocked(string dataDir)
    {
        var lockFile = Path.Combine(dataDir, "server.lock");
        if (!File.Exists(lockFile))
        {
            return false;
        }

        try
        {
            using var held = new FileStream(lockFile, FileMode.Open, FileAccess.ReadWrite, FileShare.None);
            return false;
        }
        catch (IOException)
        {
            return true;
        }
    }
}
