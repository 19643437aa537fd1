using Gantry.Runtime;

namespace Gantry.Testing;

/// <summary>Free TCP ports on loopback, below the ephemeral range (see <see cref="LoopbackPorts"/>).</summary>
public static class FreePort
{
    public static int Next() => LoopbackPorts.Next();
}
