using Gantry.Testing;

namespace Gantry.Runtime.Tests;

/// <summary>Ports kept for the services' listeners are never an instance's, whichever way a port is asked for.</summary>
public sealed class LoopbackPortsReserveTests
{
    [Fact(Timeout = 10_000)]
    public void Reserved_IsNeverLeased_EvenWhenFreeAndAskedForByNumber()
    {
        var port = FreePort.Next();
        using (var before = LoopbackPorts.LeaseIfFree(port))
        {
            before.Should().NotBeNull("it is free and not reserved yet");
        }

        LoopbackPorts.Reserve([port]);

        LoopbackPorts.IsReserved(port).Should().BeTrue();
        LoopbackPorts.LeaseIfFree(port).Should().BeNull("a service listens there once it is deployed");
        for (var i = 0; i < 200; i++)
        {
            using var lease = LoopbackPorts.Lease();
            lease.Port.Should().NotBe(port);
        }
    }
}
