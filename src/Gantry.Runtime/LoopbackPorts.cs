using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Gantry.Runtime;

/// <summary>
/// Free TCP ports on 127.0.0.1 for instances. A port is chosen some time before the instance binds it,
/// so it is taken from below the kernel's ephemeral range: ports that <c>bind(0)</c> and outgoing
/// connections of any process draw from, and could otherwise seize in between. A chosen port can also be
/// leased: the lease is an exclusive lock on a file named after the port, held for as long as the
/// instance lives (across its restarts), so no other Gantry process on the machine picks the same port
/// meanwhile; the operating system drops the lock when the process ends, even when it is killed.
/// </summary>
public static class LoopbackPorts
{
    private const int Lowest = 10_000;
    private static readonly Lazy<int> EphemeralLow = new(ReadEphemeralLow);
    private static readonly string LeaseFolder = Path.Combine(Path.GetTempPath(), "gantry-port-leases");
    private static System.Collections.Immutable.ImmutableHashSet<int> reserved = [];

    /// <summary>
    /// Ports no instance is ever given: those the manifest's services listen on. A service's listener is bound only
    /// once it is first deployed, and an instance of another service must not have taken its port by then.
    /// </summary>
    public static void Reserve(IEnumerable<int> ports) => System.Collections.Immutable.ImmutableInterlocked.Update(ref reserved, r => r.Union(ports));

    /// <summary>Whether <paramref name="port"/> is kept for a service's listener (<see cref="Reserve"/>).</summary>
    public static bool IsReserved(int port) => reserved.Contains(port);

    /// <summary>A free port that no other process has leased.</summary>
    public static int Next()
    {
        using var lease = Lease();
        return lease.Port;
    }

    /// <summary>A free port, leased until the lease is disposed.</summary>
    public static PortLease Lease()
    {
        var high = EphemeralLow.Value - 1;
        if (high - Lowest >= 1_000)
        {
            for (var attempt = 0; attempt < 200; attempt++)
            {
                if (LeaseIfFree(Random.Shared.Next(Lowest, high + 1)) is { } lease)
                {
                    return lease;
                }
            }
        }

        var any = Bind(0);
        return IsReserved(any) ? Lease() : TryLease(any) ?? new PortLease(any, null);
    }

    /// <summary>A lease on <paramref name="port"/> when it is not reserved, no Gantry process holds it and nothing listens on it; null otherwise.</summary>
    public static PortLease? LeaseIfFree(int port)
    {
        if (IsReserved(port) || TryLease(port) is not { } lease)
        {
            return null;
        }

        if (IsFree(port))
        {
            return lease;
        }

        lease.Dispose();
        return null;
    }

    /// <summary>A lease on a port an adopted instance already listens on (unleased when another process holds the lease).</summary>
    public static PortLease Claim(int port) => TryLease(port) ?? new PortLease(port, null);

    /// <summary>Whether a Gantry process (this one included) holds a lease on <paramref name="port"/>.</summary>
    public static bool IsLeased(int port)
    {
        using var lease = TryLease(port);
        return lease is null;
    }

    private static PortLease? TryLease(int port)
    {
        try
        {
            Directory.CreateDirectory(LeaseFolder);
            var file = new FileStream(Path.Combine(LeaseFolder, port.ToString(CultureInfo.InvariantCulture)), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            return new PortLease(port, file);
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            // Another user's lease file: that port is someone else's.
            return null;
        }
    }

    private static bool IsFree(int port)
    {
        try
        {
            Bind(port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static int Bind(int port)
    {
        using var listener = new TcpListener(IPAddress.Loopback, port);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>The start of the ephemeral range (Linux: /proc/sys/net/ipv4/ip_local_port_range; 32768 elsewhere).</summary>
    private static int ReadEphemeralLow()
    {
        try
        {
            var first = File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range").Split((char[])['\t', ' ', '\n'], StringSplitOptions.RemoveEmptyEntries)[0];
            return int.Parse(first, CultureInfo.InvariantCulture);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return 32_768;
        }
    }
}

/// <summary>A port chosen for an instance, kept from other Gantry processes until disposed.</summary>
public sealed class PortLease(int port, FileStream? file) : IDisposable
{
    public int Port { get; } = port;

    public void Dispose() => file?.Dispose();
}
