using System.Runtime.InteropServices;
using Gantry.Core.Runtime;
using static Gantry.Runtime.Native.LibC;

namespace Gantry.Runtime.Process;

/// <summary>
/// Tells when processes end without looking at them: one thread waits in <c>poll(2)</c> on a pidfd per watched process
/// (readable once it ends, a child of this process or not), so a thousand running instances cost nothing while they
/// run, where reading <c>/proc/PID/stat</c> four times a second each cost a few percent of a core. A pidfd names one
/// process, never a later one given the same pid. Where the system has no pidfd (Linux before 5.3, a C library
/// before 2.36), <see cref="Watch"/> answers null and the supervisor polls as before.
/// </summary>
public static partial class ExitWatch
{
    private static readonly Lock Gate = new();
    private static readonly Dictionary<int, Watched> Watching = [];
    private static int wake = -1;
    private static bool unsupported;

    /// <summary>A task that completes when the process started at <paramref name="startTime"/> under <paramref name="pid"/> ends (at once when it already has); null where pidfds are not available.</summary>
    public static Watched? Watch(int pid, long? startTime)
    {
        lock (Gate)
        {
            if (unsupported || !EnsureThread())
            {
                return null;
            }
        }

        int fd;
        try
        {
            fd = PidfdOpen(pid, 0);
        }
        catch (EntryPointNotFoundException)
        {
            unsupported = true;
            return null;
        }

        if (fd < 0)
        {
            // Gone already (ESRCH); any other refusal (ENOSYS, a full table of descriptors): poll instead.
            return Marshal.GetLastPInvokeError() == 3 ? Watched.Ended() : null;
        }

        // Opened by pid: the process it names must be the one we mean, not a later one that took its pid.
        if (!ProcessStat.IsRunning(pid, startTime))
        {
            _ = Close(fd);
            return Watched.Ended();
        }

        var watched = new Watched(fd);
        lock (Gate)
        {
            Watching[fd] = watched;
        }

        Wake();
        return watched;
    }

    private static bool EnsureThread()
    {
        if (wake >= 0)
        {
            return true;
        }

        try
        {
            wake = EventFd(0, NonBlockingCloseOnExec);
        }
        catch (EntryPointNotFoundException)
        {
            wake = -1;
        }

        if (wake < 0)
        {
            unsupported = true;
            return false;
        }

        new Thread(Run) { IsBackground = true, Name = "gantry exit watch" }.Start();
        return true;
    }

    private static void Wake() => _ = Write(wake, [1, 0, 0, 0, 0, 0, 0, 0], 8);

    private static void Run()
    {
        var drain = new byte[8];
        while (true)
        {
            PollFd[] fds;
            lock (Gate)
            {
                fds = [new PollFd { Fd = wake, Events = PollIn }, .. Watching.Keys.Select(fd => new PollFd { Fd = fd, Events = PollIn })];
            }

            if (Poll(fds, (nuint)fds.Length, -1) < 0)
            {
                continue; // EINTR
            }

            _ = Read(wake, drain, 8);
            foreach (var ready in fds.Skip(1).Where(f => f.Revents != 0))
            {
                Watched? watched;
                lock (Gate)
                {
                    _ = Watching.Remove(ready.Fd, out watched);
                }

                _ = Close(ready.Fd);
                watched?.End();
            }

            // Forgotten ones are closed here, by the only thread that polls them, so no number is reused under it.
            lock (Gate)
            {
                foreach (var fd in Watching.Where(w => w.Value.Forgotten).Select(w => w.Key).ToList())
                {
                    _ = Watching.Remove(fd);
                    _ = Close(fd);
                }
            }
        }
    }

    /// <summary>One watched process: <see cref="Ended"/> completes when it ends; disposing stops watching a process that keeps running (a released instance).</summary>
    public sealed class Watched : IDisposable
    {
        private readonly TaskCompletionSource ended = new(TaskCreationOptions.RunContinuationsAsynchronously);

        internal Watched(int fd) => Fd = fd;

        private int Fd { get; }

        public Task Exited => ended.Task;

        internal bool Forgotten { get; private set; }

        internal static Watched Ended()
        {
            var watched = new Watched(-1);
            watched.End();
            return watched;
        }

        internal void End() => ended.TrySetResult();

        public void Dispose()
        {
            if (Fd < 0 || ended.Task.IsCompleted)
            {
                return;
            }

            lock (Gate)
            {
                Forgotten = true;
            }

            Wake();
        }
    }

    [LibraryImport("libc", EntryPoint = "pidfd_open", SetLastError = true)]
    private static partial int PidfdOpen(int pid, uint flags);
}
