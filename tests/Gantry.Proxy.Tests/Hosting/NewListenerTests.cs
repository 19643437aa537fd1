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
        var ports = Enumerable.Range(0, 40).Select(_ => FreePort.Next()).ToList();
        var routes = ports.Select((port, i) => Tables.Route(port, Tables.Group("v1", 100, upstream)) with { Name = $"s{i:00}" }).ToArray();
        await using var router = new Router(TimeProvider.System);

        // Listeners are added one after the other, the swap comes after the last: a request accepted by the first while the
        // later ones are added must be routed by the table being applied. The window is short, so the table is applied
        // again (after an empty one) until a request came during an apply.
        var answers = new List<string>();
        for (var round = 0; round < 200 && answers.Count == 0; round++)
        {
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
            var asking = Task.Run(() => AskUntilStoppedAsync(ports[0], stop.Token), ct);
            await Task.Delay(2, ct);
            var applied = await router.ApplyAsync(Tables.Table(routes), ct);
            await stop.CancelAsync();
            answers.AddRange(await asking);
            applied.Applied.Should().BeTrue(applied.Error);
            (await router.ApplyAsync(Tables.Table(), ct)).Applied.Should().BeTrue();
        }

        answers.Should().NotBeEmpty("the first listener answered while the others were added");
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
