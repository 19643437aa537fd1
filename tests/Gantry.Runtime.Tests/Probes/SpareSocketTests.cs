using System.Net;
using System.Net.Sockets;
using Gantry.Runtime.Probes;

namespace Gantry.Runtime.Tests.Probes;

/// <summary>
/// The probe loop connects a socket an earlier probe used, not a new one: each probe is still a connection of its own,
/// ended with a reset once its answer is read; a refused probe on such a socket fails, and the next one passes; both
/// address families.
/// </summary>
public sealed class SpareSocketTests
{
    private static ProbeLoop Loop => ProbeLoop.Shared ?? throw new InvalidOperationException("the probe loop does not run on this system");

    [Theory(Timeout = 20_000)]
    [InlineData("127.0.0.1")]
    [InlineData("::1")]
    public async Task ProbesOneAfterAnother_ConnectTheSocketTheLastOneUsed_EachANewConnectionEndedWithAReset(string host)
    {
        var address = IPAddress.Parse(host);
        using var listener = new TcpListener(address, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var time = Loop.Time;
        var reused = Loop.Reused;

        for (var i = 0; i < 5; i++)
        {
            var probing = new HttpProbe(host, port, "/", Loop).PassesAtAsync(time.GetTimestamp(), TimeSpan.FromSeconds(5), time, TestContext.Current.CancellationToken);
            using var client = await listener.AcceptTcpClientAsync(TestContext.Current.CancellationToken);
            var stream = client.GetStream();
            _ = await HttpProbeTests.ReadRequestAsync(stream);
            await stream.WriteAsync("HTTP/1.0 200 OK\r\n\r\nok"u8.ToArray(), TestContext.Current.CancellationToken);
            client.Client.Shutdown(SocketShutdown.Send); // the server's close, as python's http.server makes it

            (await probing).Should().BeTrue($"probe {i} read its answer");
            var read = () => client.Client.ReceiveAsync(new byte[16], SocketFlags.None, TestContext.Current.CancellationToken).AsTask();
            (await read.Should().ThrowAsync<SocketException>()).Which.SocketErrorCode.Should().Be(SocketError.ConnectionReset, "the probe ends its connection with a reset, as a close with SO_LINGER 0 did");
        }

        (Loop.Reused - reused).Should().BeGreaterThanOrEqualTo(4, "after the first, each probe connects the socket the one before it used");
    }

    [Fact(Timeout = 20_000)]
    public async Task ARefusedProbe_OnASocketUsedBefore_Fails_AndTheNextPasses()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var closed = FreePort();
        var time = Loop.Time;
        var probe = new HttpProbe("127.0.0.1", port, "/", Loop);

        for (var i = 0; i < 3; i++)
        {
            var passing = probe.PassesAtAsync(time.GetTimestamp(), TimeSpan.FromSeconds(5), time, TestContext.Current.CancellationToken);
            using (var client = await listener.AcceptTcpClientAsync(TestContext.Current.CancellationToken))
            {
                _ = await HttpProbeTests.ReadRequestAsync(client.GetStream());
                await client.GetStream().WriteAsync("HTTP/1.0 204 No Content\r\n\r\n"u8.ToArray(), TestContext.Current.CancellationToken);
            }

            (await passing).Should().BeTrue();
            var reused = Loop.Reused;
            (await new HttpProbe("127.0.0.1", closed, "/", Loop).PassesAtAsync(time.GetTimestamp(), TimeSpan.FromSeconds(5), time, TestContext.Current.CancellationToken))
                .Should().BeFalse("nothing listens on port {0}", closed);
            if (i > 0)
            {
                Loop.Reused.Should().BeGreaterThan(reused, "the refused probe was made on a socket used before");
            }
        }
    }

    private static int FreePort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }
}
