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
            return ExitCodes.Success;
        }
        catch (HttpRequestException ex)
        {
            await error.WriteLineAsync($"gantry: the router (pid {old}) did not answer on unix:{files.Socket}: {ex.Message}");
            return ExitCodes.Failed;
        }
    }
}
