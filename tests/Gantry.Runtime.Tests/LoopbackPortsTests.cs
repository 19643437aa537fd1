using System.Net;
using System.Net.Sockets;

namespace Gantry.Runtime.Tests;

public sealed class LoopbackPortsTests
{
    [Fact(Timeout = 10_000)]
    public void Next_OnLinux_StaysBelowTheEphemeralRangeAndIsBindable()
    {
        var low = int.Parse(File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range").Split((char[])['\t', ' '], StringSplitOptions.RemoveEmptyEntries)[0], System.Globalization.CultureInfo.InvariantCulture);

        var ports = Enumerable.Range(0, 50).Select(_ => LoopbackPorts.Next()).ToList();

        ports.Should().OnlyContain(p => p >= 10_000 && p < low, "bind(0) and outgoing connections never take these");
        using var listener = new TcpListener(IPAddress.Loopback, ports[0]);
        listener.Start();
    }

    [Fact(Timeout = 10_000)]
    public void Lease_Held_KeepsThePortFromEveryOtherChooserUntilDisposed()
    {
        var lease = LoopbackPorts.Lease();
        LoopbackPorts.IsLeased(lease.Port).Should().BeTrue();
        Enumerable.Range(0, 500).Select(_ => LoopbackPorts.Next()).Should().NotContain(lease.Port);

        lease.Dispose();
        LoopbackPorts.IsLeased(lease.Port).Should().BeFalse();
    }
}
