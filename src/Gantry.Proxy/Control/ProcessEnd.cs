using System.Runtime.InteropServices;

namespace Gantry.Proxy.Control;

/// <summary>
/// Waits for a process that is not this one's child to end: on a pidfd in <c>poll(2)</c>, on a thread of its own, so
/// the wait costs nothing and ends the moment the process does (or it is cancelled); where there is no pidfd, by looking every 50 ms.
/// </summary>
internal static partial class ProcessEnd
{
    private const short PollIn = 0x1;
    private const int CloseOnExec = 0x80000;
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

    /// <summary>
    /// Readable once the process ends. A cancellation writes to an eventfd polled beside it, so the thread sleeps
    /// until one of the two happens and never wakes on its own; where there is no eventfd it looks for a cancellation
    /// every 500 ms.
    /// </summary>
    private static void Block(int fd, CancellationToken ct)
    {
        var cancelled = EventFd(0, CloseOnExec);
        if (cancelled < 0)
        {
            LookEvery500Ms(fd, ct);
            return;
        }

        var registration = ct.UnsafeRegister(static state => _ = Write((int)state!, [1, 0, 0, 0, 0, 0, 0, 0], 8), cancelled);
        try
        {
            var fds = new PollFd[] { new() { Fd = fd, Events = PollIn }, new() { Fd = cancelled, Events = PollIn } };
            while (true)
            {
                ct.ThrowIfCancellationRequested();
                if (Poll(fds, 2, -1) > 0 && fds[0].Revents != 0)
                {
                    return;
                }
            }
        }
        finally
        {
            registration.Dispose(); // waits for a callback under way, which writes to the descriptor closed next
            _ = Close(cancelled);
        }
    }

    private static void LookEvery500Ms(int fd, CancellationToken ct)
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

    [LibraryImport("libc", EntryPoint = "eventfd", SetLastError = true)]
    private static partial int EventFd(uint initial, int flags);

    [LibraryImport("libc", EntryPoint = "write", SetLastError = true)]
    private static partial nint Write(int fd, ReadOnlySpan<byte> buffer, nint count);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}
