using System.Net;
using System.Net.Sockets;

namespace Gantry.Testing;

/// <summary>Free TCP ports on loopback, asked of the operating system.</summary>
public static class FreePort
{
    public static int Next()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
