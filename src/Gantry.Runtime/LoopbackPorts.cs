using System.Net;
using System.Net.Sockets;

namespace Gantry.Runtime;

/// <summary>Free TCP ports on 127.0.0.1, as the operating system hands them out.</summary>
public static class LoopbackPorts
{
    public static int Next()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
