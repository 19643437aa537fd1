namespace Gantry.Runtime.Probes;

/// <summary>
/// The probe loop's sockets that ended an exchange and can connect again, one stack per address family. A socket
/// that was connected is ended with <c>connect(AF_UNSPEC)</c>: the kernel aborts the connection with a reset, as a close
/// with <c>SO_LINGER</c> of 0 would (no TIME_WAIT on either side), and the socket is back where a new one starts, its
/// local port given up. The next probe connects it again (the kernel clears the error the abort left on it when it
/// connects), which spares the allocation of a socket and its file and their release: 9-15% of a probe's CPU on
/// loopback (bench/README, "A probe's socket used again"). A socket that never connected is closed.
/// </summary>
internal sealed class SpareSockets
{
    /// <summary>As many as kept per family: more than the probes that fall due together on a busy control plane.</summary>
    public const int Most = 64;

    private readonly Stack<int> v4 = new();
    private readonly Stack<int> v6 = new();

    private long reused;

    /// <summary>Sockets taken from here rather than opened (since the loop started).</summary>
    public long Reused => Volatile.Read(ref reused);

    /// <summary>A spare socket for the address's family, else a new one (-1 when none can be opened).</summary>
    public int Take(byte[] address)
    {
        if (Of(address).TryPop(out var fd))
        {
            Volatile.Write(ref reused, reused + 1); // only the loop's thread takes
            return fd;
        }

        return ProbeSockets.Open(address);
    }

    /// <summary>Ends the exchange on <paramref name="fd"/> with a reset; kept for another probe when it had connected and there is room.</summary>
    public void Give(int fd, byte[] address, bool connected)
    {
        var spares = Of(address);
        if (connected && spares.Count < Most && ProbeSockets.Disconnect(fd) == 0)
        {
            spares.Push(fd);
            return;
        }

        _ = ProbeSockets.Reset(fd);
    }

    private Stack<int> Of(byte[] address) => address.Length == 16 ? v4 : v6;
}
