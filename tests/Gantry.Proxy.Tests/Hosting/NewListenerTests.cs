using System.Net.Sockets;
using System.Text;
using Gantry.Proxy.Hosting;
using Gantry.Testing;

namespace Gantry.Proxy.Tests.Hosting;

/// <summary>A listener started by a table serves that table from its first request, not a 404 until the swap.</summary>
public sealed class NewListenerTests
{
    [Fact(Timeout = 120_000)]
    public async Task Apply_ManyNewListeners_ARequestOnOneAlreadyListening_IsRoutedWhileTheOthersStart()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var upstream = await Upstream.StartAsync("one");
        // Listeners start one after the other: the first accepts while the later ones are still starting.
        var ports = Enumerable.Range(0, 40).Select(_ => FreePort.Next()).ToList();
        var routes = ports.Select((port, i) => Tables.Route(port, Tables.Group("v1", 100, upstream)) with { Name = $"s{i:00}" }).ToArray();
        await using var router = new Router(TimeProvider.System);

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var asking = Task.Run(() => AskUntilStoppedAsync(ports[0], stop.Token), ct);
        var applied = await router.ApplyAsync(Tables.Table(routes), ct);
        await stop.CancelAsync();
        var answers = await asking;

        applied.Applied.Should().BeTrue(applied.Error);
        answers.Should().NotBeEmpty("the first listener answered while the others started");
        answers.Should().OnlyContain(status => status == "200", "a listener serves the table it was started for");
    }

    /// <summary>Raw requests as fast as connections are accepted; the status of each answer.</summary>
    private static async Task<List<string>> AskUntilStoppedAsync(int port, CancellationToken ct)
    {
        var answers = new List<string>();
        var request = Encoding.ASCII.GetBytes("GET /who HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        var buffer = new byte[64];
        while (!ct.IsCancellationRequested && answers.Count < 10_000)
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                await socket.ConnectAsync("127.0.0.1", port, CancellationToken.None);
                await socket.SendAsync(request, CancellationToken.None);
                var read = await socket.ReceiveAsync(buffer, CancellationToken.None);
                answers.Add(read >= 12 ? Encoding.ASCII.GetString(buffer, 9, 3) : "short");
            }
            catch (SocketException)
            {
                await Task.Delay(1, CancellationToken.None);
            }
        }

        return answers;
    }
}
