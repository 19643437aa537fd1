using System.Net;
using System.Net.Sockets;
using System.Text;
using Gantry.Runtime.Probes;

namespace Gantry.Runtime.Tests.Probes;

/// <summary>
/// The readiness and liveness probe on its own socket: what passes (200-399, a redirect not followed), what fails (an
/// error status, a refused connection, an answer that is not HTTP), a server that never answers stopped by the probe's
/// timeout, and the request a server sees; each made by the probe loop and on the runtime's asynchronous sockets.
/// </summary>
public sealed class HttpProbeTests
{
    [Theory(Timeout = 10_000)]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", true, true)]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", true, false)]
    [InlineData("HTTP/1.0 204 No Content\r\n\r\n", true, true)]
    [InlineData("HTTP/1.0 204 No Content\r\n\r\n", true, false)]
    [InlineData("HTTP/1.1 302 Found\r\nLocation: /elsewhere\r\n\r\n", true, true)]
    [InlineData("HTTP/1.1 302 Found\r\nLocation: /elsewhere\r\n\r\n", true, false)]
    [InlineData("HTTP/1.1 404 Not Found\r\n\r\n", false, true)]
    [InlineData("HTTP/1.1 404 Not Found\r\n\r\n", false, false)]
    [InlineData("HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\n\r\n", false, true)]
    [InlineData("HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\n\r\n", false, false)]
    [InlineData("HTTP/1.1 199 Weird\r\n\r\n", false, true)]
    [InlineData("HTTP/1.1 199 Weird\r\n\r\n", false, false)]
    [InlineData("SSH-2.0-OpenSSH_9.2\r\n", false, true)]
    [InlineData("SSH-2.0-OpenSSH_9.2\r\n", false, false)]
    [InlineData("", false, true)]
    [InlineData("", false, false)]
    public async Task Answer_DecidesTheProbe_AndTheServerSeesOneCleanRequest(string answer, bool passes, bool onTheLoop)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var served = ServeOnceAsync(listener, answer);

        Assert.Equal(passes, await Probe("127.0.0.1", port, "/health/ready?deep=1", onTheLoop).PassesAsync(TestContext.Current.CancellationToken));
        var request = await served;
        Assert.StartsWith($"GET /health/ready?deep=1 HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n", request, StringComparison.Ordinal);
        Assert.Contains("\r\nConnection: close\r\n", request, StringComparison.Ordinal);
        Assert.EndsWith("\r\n\r\n", request, StringComparison.Ordinal);
    }

    [Theory(Timeout = 10_000)]
    [InlineData(true)]
    [InlineData(false)]
    public async Task AStatusLineSplitAcrossWrites_AndALongBody_AreRead(bool onTheLoop)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var served = Task.Run(async () =>
        {
            using var client = await listener.AcceptTcpClientAsync(TestContext.Current.CancellationToken);
            var stream = client.GetStream();
            await ReadRequestAsync(stream);
            await stream.WriteAsync("HTTP/1."u8.ToArray(), TestContext.Current.CancellationToken);
            await Task.Delay(50, TestContext.Current.CancellationToken);
            await stream.WriteAsync(Encoding.ASCII.GetBytes("1 200 OK\r\nContent-Length: 100000\r\n\r\n" + new string('x', 100_000)), TestContext.Current.CancellationToken);
        });

        Assert.True(await Probe("127.0.0.1", port, "/", onTheLoop).PassesAsync(TestContext.Current.CancellationToken));
        await served;
    }

    [Theory(Timeout = 10_000)]
    [InlineData(true)]
    [InlineData(false)]
    public async Task AHostName_IsResolvedAtTheProbe(bool onTheLoop)
    {
        // The probe connects to the first address the name resolves to: listen there.
        var first = (await Dns.GetHostAddressesAsync("localhost", TestContext.Current.CancellationToken))[0];
        using var listener = new TcpListener(first, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var served = ServeOnceAsync(listener, "HTTP/1.1 200 OK\r\n\r\n");

        Assert.True(await Probe("localhost", port, "/", onTheLoop).PassesAsync(TestContext.Current.CancellationToken));
        Assert.StartsWith($"GET / HTTP/1.1\r\nHost: localhost:{port}\r\n", await served, StringComparison.Ordinal);
    }

    [Theory(Timeout = 10_000)]
    [InlineData(true)]
    [InlineData(false)]
    public async Task NothingListening_Fails(bool onTheLoop)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();

        Assert.False(await Probe("127.0.0.1", port, "/", onTheLoop).PassesAsync(TestContext.Current.CancellationToken));
    }

    [Theory(Timeout = 10_000)]
    [InlineData(true)]
    [InlineData(false)]
    public async Task AServerThatNeverAnswers_IsCutOffByTheProbesTimeout(bool onTheLoop)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromMilliseconds(300));
        var started = System.Diagnostics.Stopwatch.StartNew();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await Probe("127.0.0.1", port, "/", onTheLoop).PassesAsync(timeout.Token));
        Assert.InRange(started.Elapsed, TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(3));
    }

    [Theory(Timeout = 20_000)]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ARealServer_PythonsHttpServer_PassesAndItsMissingPathFails(bool onTheLoop)
    {
        var dir = Directory.CreateTempSubdirectory("gantry-probe-");
        await File.WriteAllTextAsync(Path.Combine(dir.FullName, "index.html"), "ok", TestContext.Current.CancellationToken);
        int port;
        using (var free = new TcpListener(IPAddress.Loopback, 0))
        {
            free.Start();
            port = ((IPEndPoint)free.LocalEndpoint).Port;
        }

        using var server = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("/usr/bin/python3", ["-m", "http.server", $"{port}", "--bind", "127.0.0.1", "--directory", dir.FullName]) { RedirectStandardError = true })!;
        try
        {
            var probe = Probe("127.0.0.1", port, "/", onTheLoop);
            var deadline = System.Diagnostics.Stopwatch.StartNew();
            while (!await probe.PassesAsync(TestContext.Current.CancellationToken) && deadline.Elapsed < TimeSpan.FromSeconds(10))
            {
                await Task.Delay(50, TestContext.Current.CancellationToken);
            }

            Assert.True(await probe.PassesAsync(TestContext.Current.CancellationToken));
            Assert.False(await Probe("127.0.0.1", port, "/missing", onTheLoop).PassesAsync(TestContext.Current.CancellationToken));
        }
        finally
        {
            server.Kill();
            dir.Delete(recursive: true);
        }
    }

    /// <summary>A probe made by the process's probe loop, or on the runtime's asynchronous sockets.</summary>
    private static HttpProbe Probe(string host, int port, string path, bool onTheLoop) =>
        new(host, port, path, onTheLoop ? ProbeLoop.Shared ?? throw new InvalidOperationException("the probe loop does not run on this system") : null);

    private static async Task<string> ServeOnceAsync(TcpListener listener, string answer)
    {
        using var client = await listener.AcceptTcpClientAsync(TestContext.Current.CancellationToken);
        var stream = client.GetStream();
        var request = await ReadRequestAsync(stream);
        await stream.WriteAsync(Encoding.ASCII.GetBytes(answer), TestContext.Current.CancellationToken);
        return request;
    }

    /// <summary>A request read to its blank line.</summary>
    internal static async Task<string> ReadRequestAsync(NetworkStream stream)
    {
        var text = new StringBuilder();
        var buffer = new byte[1024];
        while (!text.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
        {
            var n = await stream.ReadAsync(buffer, TestContext.Current.CancellationToken);
            if (n == 0)
            {
                break;
            }

            text.Append(Encoding.ASCII.GetString(buffer, 0, n));
        }

        return text.ToString();
    }
}
