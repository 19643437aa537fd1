using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Endpoint = Gantry.Core.Manifest.Values.Endpoint;

namespace Gantry.Proxy.Hosting;

/// <summary>
/// The router's listening sockets, created here rather than by Kestrel so that they can outlive this process: a
/// router that hands over to its successor (an upgrade) lets the new process inherit them, and the new process
/// accepts from the very same sockets, so no connection is refused and none waiting in a backlog is lost.
/// </summary>
public sealed partial class ListenerSockets
{
    /// <summary>The variable that tells a router which inherited descriptors listen where: <c>ADDRESS=FD;...</c>.</summary>
    public const string InheritedVariable = "GANTRY_ROUTER_LISTENERS";

    private readonly Dictionary<Endpoint, Socket> inherited = [];
    private readonly Dictionary<Endpoint, Socket> open = [];
    private readonly Lock gate = new();
    private bool shared;

    /// <summary>The sockets a predecessor left to this process, named in <see cref="InheritedVariable"/>.</summary>
    public static ListenerSockets FromEnvironment()
    {
        var sockets = new ListenerSockets();
        foreach (var pair in (Environment.GetEnvironmentVariable(InheritedVariable) ?? string.Empty).Split(';', StringSplitOptions.RemoveEmptyEntries))
        {
            var at = pair.LastIndexOf('=');
            if (at > 0 && Endpoint.TryParse(pair[..at], out var address) is null && int.TryParse(pair[(at + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var fd))
            {
                sockets.inherited[address!] = new Socket(new SafeSocketHandle(fd, ownsHandle: true));
            }
        }

        return sockets;
    }

    /// <summary>The listening socket for <paramref name="address"/>: the inherited one, or a new one bound there.</summary>
    public Socket Bind(Endpoint address)
    {
        lock (gate)
        {
            if (inherited.Remove(address, out var socket))
            {
                open[address] = socket;
                return socket;
            }

            var ip = address.Host == "localhost" ? IPAddress.Loopback : IPAddress.Parse(address.Host);
            socket = new Socket(ip.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            if (ip.AddressFamily == AddressFamily.InterNetworkV6 && ip.Equals(IPAddress.IPv6Any))
            {
                socket.DualMode = true;
            }

            try
            {
                socket.Bind(new IPEndPoint(ip, address.Port));
            }
            catch
            {
                socket.Dispose();
                throw;
            }

            open[address] = socket;
            return socket;
        }
    }

    /// <summary>A listener stopped: its socket is closed unless a successor shares it (then closing is the successor's).</summary>
    public void Release(Endpoint address, Socket socket)
    {
        lock (gate)
        {
            // Shared: kept referenced (never finalised) until this process exits; the successor listens on it.
            if (!shared)
            {
                if (open.TryGetValue(address, out var held) && ReferenceEquals(held, socket))
                {
                    open.Remove(address);
                }

                socket.Dispose();
            }
        }
    }

    /// <summary>
    /// Makes every open listening socket survive <c>exec</c> and names them for a successor: the value of
    /// <see cref="InheritedVariable"/> to start it with.
    /// </summary>
    public string ShareWithSuccessor()
    {
        lock (gate)
        {
            shared = true;
            foreach (var socket in open.Values)
            {
                if (SetDescriptorFlags(socket.Handle.ToInt32(), SetFd, 0) != 0)
                {
                    throw new IOException($"cannot share listening socket: error {Marshal.GetLastPInvokeError()}");
                }
            }

            return string.Join(';', open.Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Key}={p.Value.Handle.ToInt32()}")));
        }
    }

    /// <summary>A handover that failed: the sockets are this process's alone again.</summary>
    public void KeepToSelf()
    {
        lock (gate)
        {
            shared = false;
        }
    }

    /// <summary>Closes inherited sockets the table does not use (a listener the new table dropped).</summary>
    public void CloseUnused()
    {
        lock (gate)
        {
            foreach (var socket in inherited.Values)
            {
                socket.Dispose();
            }

            inherited.Clear();
        }
    }

    private const int SetFd = 2;

    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    private static partial int SetDescriptorFlags(int fd, int command, int flags);
}
