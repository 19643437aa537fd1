using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Gantry.Runtime;

/// <summary>
/// Free TCP ports on 127.0.0.1 for instances. A port is chosen some time before the instance binds it,
/// so it is taken from below the kernel's ephemeral range: ports that <c>bind(0)</c> and outgoing
/// connections of any process draw from, and could otherwise seize in between.
/// </summary>
public static class LoopbackPorts
{
    private const int Lowest = 10_000;
    private static readonly Lazy<int> EphemeralLow = new(ReadEphemeralLow);

    public static int Next()
    {
        var high = EphemeralLow.Value - 1;
        if (high - Lowest >= 1_000)
        {
            for (var attempt = 0; attempt < 200; attempt++)
            {
                var port = Random.Shared.Next(Lowest, high + 1);
                if (IsFree(port))
                {
                    return port;
                }
            }
        }

        return Bind(0);
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
