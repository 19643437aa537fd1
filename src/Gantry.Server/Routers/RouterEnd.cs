using Gantry.Runtime.Process;

namespace Gantry.Server.Routers;

/// <summary>The end of the router process being watched, told by its pidfd (the runtime's exit watch); one process at a time.</summary>
internal sealed class RouterEnd : IDisposable
{
    private ExitWatch.Watched? watch;
    private int pid;

    /// <summary>
    /// Completes when <paramref name="routerPid"/> ends; null where the system cannot tell, or when its end was told
    /// already and the process still looks alive (a zombie not yet reaped, say): it is then looked at instead.
    /// </summary>
    public Task? Of(int routerPid)
    {
        if (routerPid != pid)
        {
            watch?.Dispose();
            watch = ExitWatch.Watch(routerPid, Core.Runtime.ProcessStat.StartTime(routerPid));
            pid = routerPid;
            return watch?.Exited;
        }

        return watch is { Exited.IsCompleted: false } ? watch.Exited : null;
    }

    public void Dispose() => watch?.Dispose();
}
