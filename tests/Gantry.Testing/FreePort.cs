using System.Collections.Concurrent;
using Gantry.Runtime;

namespace Gantry.Testing;

/// <summary>
/// Free TCP ports on loopback, below the ephemeral range (see <see cref="LoopbackPorts"/>), never the same one twice in a
/// test run: a port handed out is not bound until its test starts a listener on it, so two draws could otherwise
/// return the same free port (two services of one manifest given one address).
/// </summary>
public static class FreePort
{
    private static readonly ConcurrentDictionary<int, bool> Given = new();

    public static int Next()
    {
        for (var attempt = 0; attempt < 100; attempt++)
        {
            var port = LoopbackPorts.Next();
            if (Given.TryAdd(port, true))
            {
                return port;
            }
        }

        throw new InvalidOperationException("no loopback port left that this test run has not handed out already");
    }

    /// <summary>Whether something accepts TCP connections on this loopback port.</summary>
    public static bool Accepts(int port)
    {
        try
        {
            using var client = new System.Net.Sockets.TcpClient();
            client.Connect("127.0.0.1", port);
            return true;
        }
        catch (System.Net.Sockets.SocketException)
        {
            return false;
        }
    }
}
