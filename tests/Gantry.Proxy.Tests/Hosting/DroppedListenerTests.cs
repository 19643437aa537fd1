using System.Net.Sockets;
using System.Text;
using Gantry.Proxy.Hosting;
using Gantry.Testing;

namespace Gantry.Proxy.Tests.Hosting;

/// <summary>
/// A listener the new table no longer has (its service removed): it stops accepting at once, a request in progress
/// on it is answered, and its open connections are closed; the other listeners, on the same server, are untouched.
/// </summary>
public sealed class DroppedListenerTests
{
    private static readonly byte[] KeepAlive = Encoding.ASCII.GetBytes("GET /who HTTP/1.1\r\nHost: x\r\n\r\n");

    [Fact(Timeout = 60_000)]
    public async Task Apply_ListenerDropped_RefusesNewConnections_AnswersWhatIsInProgress_ClosesIdleConnections()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var upstream = await Upstream.StartAsync("one");
        int kept = FreePort.Next(), dropped = FreePort.Next();
        var both = Tables.Table(
            Tables.Route(kept, Tables.Group("v1", 100, upstream)) with { Name = "kept" },
            Tables.Route(dropped, Tables.Group("v1", 100, upstream)) with { Name = "dropped" });
        await using var router = new Router(TimeProvider.System);
        (await router.ApplyAsync(both, ct)).Applied.Should().BeTrue();

        // An idle keep-alive connection, and a request in progress (the instance answers in 1.5 s), both on the listener to drop.
        using var idle = await ConnectAsync(dropped, ct);
        await idle.SendAsync(KeepAlive, ct);
        (await ReadAnswerAsync(idle, ct)).Should().StartWith("HTTP/1.1 200");
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(20) };
        var slow = client.GetAsync(new Uri($"http://127.0.0.1:{dropped}/slow/1500"), ct);
        await Task.Delay(300, ct);

        (await router.ApplyAsync(Tables.Table(Tables.Route(kept, Tables.Group("v1", 100, upstream)) with { Name = "kept" }), ct)).Applied.Should().BeTrue();

        var refused = async () => { using var _ = await ConnectAsync(dropped, ct); };
        await refused.Should().ThrowAsync<SocketException>("nothing listens there any more");
        using (var answer = await slow)
        {
            answer.IsSuccessStatusCode.Should().BeTrue("a request in progress on the dropped listener is answered");
        }

        using var closing = CancellationTokenSource.CreateLinkedTokenSource(ct);
        closing.CancelAfter(TimeSpan.FromSeconds(10));
        (await idle.ReceiveAsync(new byte[256], closing.Token)).Should().Be(0, "the router closes the dropped listener's idle connection");
        (await client.GetStringAsync(new Uri($"http://127.0.0.1:{kept}/who"), ct)).Should().Be("one");
    }

    [Fact(Timeout = 60_000)]
    public async Task Apply_ListenerDroppedThenWantedAgain_ServesAgain()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var upstream = await Upstream.StartAsync("one");
        var port = FreePort.Next();
        var table = Tables.Table(Tables.Route(port, Tables.Group("v1", 100, upstream)));
        await using var router = new Router(TimeProvider.System);
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };

        (await router.ApplyAsync(table, ct)).Applied.Should().BeTrue();
        (await router.ApplyAsync(Tables.Table(), ct)).Applied.Should().BeTrue();
        (await router.ApplyAsync(table, ct)).Applied.Should().BeTrue();

        (await client.GetStringAsync(new Uri($"http://127.0.0.1:{port}/who"), ct)).Should().Be("one");
    }

    private static async Task<Socket> ConnectAsync(int port, CancellationToken ct)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await socket.ConnectAsync("127.0.0.1", port, ct);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private static async Task<string> ReadAnswerAsync(Socket socket, CancellationToken ct)
    {
        var buffer = new byte[4096];
        var text = new StringBuilder();
        while (!text.ToString().EndsWith("one", StringComparison.Ordinal))
        {
            var read = await socket.ReceiveAsync(buffer, ct);
            if (read == 0)
            {
                break;
            }

            text.Append(Encoding.ASCII.GetString(buffer, 0, read));
        }

        return text.ToString();
    }
}
