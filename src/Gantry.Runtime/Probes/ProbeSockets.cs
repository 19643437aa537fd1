using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Gantry.Runtime.Probes;

/// <summary>The C library's socket calls the probe loop makes, on non-blocking descriptors it owns (Linux numbering).</summary>
internal static partial class ProbeSockets
{
    public const int WouldBlock = 11; // EAGAIN
    public const int Interrupted = 4; // EINTR
    public const int InProgress = 115; // EINPROGRESS
    private const int Stream = 1;
    private const int SolSocket = 1;
    private const int SoLinger = 13;
    private const int NoSignal = 0x4000;
    private static readonly byte[] Unspecified = new byte[16]; // a sockaddr whose family is AF_UNSPEC (0)

    /// <summary>The address as the C library's <c>sockaddr_in</c> or <c>sockaddr_in6</c>.</summary>
    public static byte[] Address(IPEndPoint endpoint)
    {
        var ip = endpoint.Address;
        if (ip.AddressFamily == AddressFamily.InterNetwork)
        {
            var v4 = new byte[16];
            BinaryPrimitives.WriteUInt16LittleEndian(v4, 2); // AF_INET, host order (little-endian on the machines .NET runs Linux on)
            BinaryPrimitives.WriteUInt16BigEndian(v4.AsSpan(2), (ushort)endpoint.Port);
            _ = ip.TryWriteBytes(v4.AsSpan(4), out _);
            return v4;
        }

        var v6 = new byte[28];
        BinaryPrimitives.WriteUInt16LittleEndian(v6, 10); // AF_INET6
        BinaryPrimitives.WriteUInt16BigEndian(v6.AsSpan(2), (ushort)endpoint.Port);
        _ = ip.TryWriteBytes(v6.AsSpan(8), out _);
        BinaryPrimitives.WriteUInt32LittleEndian(v6.AsSpan(24), (uint)ip.ScopeId);
        return v6;
    }

    /// <summary>A non-blocking stream socket for the address's family, or -1.</summary>
    public static int Open(byte[] address) => Socket(address.Length == 16 ? 2 : 10, Stream | Native.LibC.NonBlockingCloseOnExec, 0);

    /// <summary>0 when connected, <see cref="InProgress"/> while connecting, another errno when refused.</summary>
    public static int Connect(int fd, byte[] address) => ConnectTo(fd, address, address.Length) == 0 ? 0 : Marshal.GetLastPInvokeError();

    /// <summary>Bytes sent, or minus the errno.</summary>
    public static int Send(int fd, ReadOnlySpan<byte> data)
    {
        var sent = SendTo(fd, data, data.Length, NoSignal);
        return sent >= 0 ? (int)sent : -Marshal.GetLastPInvokeError();
    }

    /// <summary>Bytes received (0 at the end), or minus the errno.</summary>
    public static int Receive(int fd, Span<byte> into)
    {
        var received = ReceiveFrom(fd, into, into.Length, 0);
        return received >= 0 ? (int)received : -Marshal.GetLastPInvokeError();
    }

    /// <summary>
    /// Closes with a reset rather than the closing handshake (<c>SO_LINGER</c> of 0), so neither side keeps the connection in
    /// TIME_WAIT (one per probe otherwise, for a minute). Nothing is lost: a probe that passed or failed on its answer has read
    /// it to its end, and one that timed out or broke is given up in any case.
    /// </summary>
    public static int Reset(int fd)
    {
        Span<int> linger = [1, 0];
        _ = SetSocketOption(fd, SolSocket, SoLinger, linger, sizeof(int) * 2);
        return Native.LibC.Close(fd);
    }

    /// <summary>
    /// <c>connect(AF_UNSPEC)</c>: the connection is aborted with a reset (or a connection under way given up) and the
    /// socket can connect again; 0, or the errno.
    /// </summary>
    public static int Disconnect(int fd)
    {
        return ConnectTo(fd, Unspecified, Unspecified.Length) == 0 ? 0 : Marshal.GetLastPInvokeError();
    }

    [LibraryImport("libc", EntryPoint = "setsockopt", SetLastError = true)]
    private static partial int SetSocketOption(int fd, int level, int name, ReadOnlySpan<int> value, int length);

    [LibraryImport("libc", EntryPoint = "socket", SetLastError = true)]
    private static partial int Socket(int domain, int type, int protocol);

    [LibraryImport("libc", EntryPoint = "connect", SetLastError = true)]
    private static partial int ConnectTo(int fd, byte[] address, int length);

    [LibraryImport("libc", EntryPoint = "send", SetLastError = true)]
    private static partial nint SendTo(int fd, ReadOnlySpan<byte> data, nint length, int flags);

    [LibraryImport("libc", EntryPoint = "recv", SetLastError = true)]
    private static partial nint ReceiveFrom(int fd, Span<byte> data, nint length, int flags);
}
