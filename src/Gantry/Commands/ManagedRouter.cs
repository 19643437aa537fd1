using Gantry.Proxy.Control;

namespace Gantry.Commands;

/// <summary><c>gantry router --data DIR [--upgrade]</c>: the router process of a control plane's data directory, or its replacement.</summary>
internal static class ManagedRouter
{
    public static async Task<int> RunAsync(RouterFiles files, bool upgrade, TimeProvider time, TextWriter output, TextWriter error, CancellationToken ct)
    {
        if (!upgrade)
        {
            return await new RouterHost(files, time, output, error).RunAsync(ct);
        }

        if (files.LivePid() is not { } old)
        {
            await error.WriteLineAsync($"gantry: no router serves {files.DataDirectory}: nothing to upgrade ('gantry server' starts one)");
            return ExitCodes.Failed;
        }

        var launch = GantryLaunch.Self();
        using var client = new RouterAdminClient(files, files.EnsureToken(), TimeSpan.FromSeconds(30));
        try
        {
            var answer = await client.HandoverAsync(new HandoverRequest(launch.FileName, launch.RouterArguments(files.DataDirectory)), ct);
            if (!answer.HandedOver)
            {
                await error.WriteLineAsync($"gantry: the router was not upgraded: {answer.Error}; pid {old} keeps serving");
                return ExitCodes.Failed;
            }

            await output.WriteLineAsync($"gantry router: upgraded to {GantryCli.Version}: pid {answer.Pid} serves, pid {old} finishes the requests it has and exits");
            if (files.LiveSparePid() is { } spare)
            {
                // The spare would take over with the old version: one of this version waits instead.
                await ReplaceSpareAsync(files, launch, time, ct);
                await output.WriteLineAsync($"gantry router: spare pid {spare} replaced by one of {GantryCli.Version}");
            }

            return ExitCodes.Success;
        }
        catch (HttpRequestException ex)
        {
            await error.WriteLineAsync($"gantry: the router (pid {old}) did not answer on unix:{files.Socket}: {ex.Message}");
            return ExitCodes.Failed;
        }
    }

    /// <summary>Stops the spare (it exits without taking over) and starts one of this executable.</summary>
    internal static async Task ReplaceSpareAsync(RouterFiles files, GantryLaunch launch, TimeProvider time, CancellationToken ct)
    {
        await RouterSpare.StopAsync(files, time, ct);
        using var started = System.Diagnostics.Process.Start(Core.Runtime.DetachedProcess.Info(launch.FileName, launch.SpareArguments(files.DataDirectory), files.LogFile));
    }
}
