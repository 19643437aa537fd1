using System.Runtime.InteropServices;

namespace Gantry.Proxy.Control;

/// <summary>
/// Waits for a process that is not this one's child to end: on a pidfd in <c>poll(2)</c>, on a thread of its own, so
/// the wait costs nothing and ends the moment the process does; where there is no pidfd, by looking every 50 ms.
/// </summary>
internal static partial class ProcessEnd
{
    private const short PollIn = 0x1;
    private static readonly TimeSpan Look = TimeSpan.FromMilliseconds(50);

    public static async Task WaitAsync(int pid, TimeProvider time, CancellationToken ct)
    {
        int fd;
        try
        {
            fd = PidfdOpen(pid, 0);
        }
        catch (EntryPointNotFoundException)
        {
            fd = -1;
        }

        if (fd < 0)
        {
            while (Core.Runtime.ProcessStat.IsAlive(pid))
            {
                await Task.Delay(Look, time, ct);
            }

            return;
        }

        try
        {
            await Task.Factory.StartNew(() => Block(fd, ct), ct, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        }
        finally
        {
            _ = Close(fd);
        }
    }

    /// <summary>Readable once the process ends; the timeout only lets a cancellation be seen.</summary>
    private static void Block(int fd, CancellationToken ct)
    {
        var fds = new PollFd[] { new() { Fd = fd, Events = PollIn } };
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            if (Poll(fds, 1, 500) > 0)
            {
                return;
            }
        }
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    /// <summary>SIGTERM: asks the process to stop.</summary>
    public static bool Terminate(int pid) => Kill(pid, 15) == 0;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

    [LibraryImport("libc", EntryPoint = "pidfd_open", SetLastError = true)]
    private static partial int PidfdOpen(int pid, uint flags);

    [LibraryImport("libc", EntryPoint = "poll", SetLastError = true)]
    private static partial int Poll([In, Out] PollFd[] fds, nuint count, int timeout);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}
