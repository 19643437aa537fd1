using System.Runtime.InteropServices;

namespace Gantry.Runtime.Native;

/// <summary>The C library's calls for a thread that waits on descriptors: an eventfd to be woken by, <c>poll(2)</c>, reads, writes and closes.</summary>
internal static partial class LibC
{
    public const short PollIn = 0x1;
    public const short PollOut = 0x4;
    public const int NonBlockingCloseOnExec = 0x800 | 0x80000;

    [StructLayout(LayoutKind.Sequential)]
    internal struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    [LibraryImport("libc", EntryPoint = "eventfd", SetLastError = true)]
    internal static partial int EventFd(uint initial, int flags);

    [LibraryImport("libc", EntryPoint = "poll", SetLastError = true)]
    internal static partial int Poll([In, Out] PollFd[] fds, nuint count, int timeout);

    [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
    internal static partial nint Read(int fd, Span<byte> buffer, nint count);

    [LibraryImport("libc", EntryPoint = "write", SetLastError = true)]
    internal static partial nint Write(int fd, ReadOnlySpan<byte> buffer, nint count);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    internal static partial int Close(int fd);
}
