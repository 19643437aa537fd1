using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.WebSockets;
using System.Text;
using Gantry.Proxy.Routing;
using Gantry.Testing;
using Endpoint = Gantry.Core.Manifest.Values.Endpoint;

namespace Gantry.Proxy.Tests.Forwarding;

/// <summary>The forwarder against real upstream servers: what goes through, what does not, and how failures look.</summary>
public sealed class HttpForwarderTests
{
    private const int Timeout = 60_000;

    [Theory(Timeout = Timeout)]
    [InlineData("GET")]
    [InlineData("POST")]
    [InlineData("PUT")]
    [InlineData("DELETE")]
    [InlineData("PATCH")]
    [InlineData("OPTIONS")]
    public async Task Forward_MethodsQueryHeadersAndBody_ArriveUnchanged(string method)
    {
        await using var upstream = await Upstream.StartAsync("a");
        await using var router = await RouterFixture.StartAsync(port => Tables.Table(Tables.Route(port, Tables.Group("stable", 1, upstream))));
        using var request = new HttpRequestMessage(new HttpMethod(method), "/echo/x%20y?b=2&a=1&a=3");
        request.Headers.TryAddWithoutValidation("X-Custom", "v1");
        request.Headers.TryAddWithoutValidation("Connection", "X-Hop");
        request.Headers.TryAddWithoutValidation("X-Hop", "secret");
        request.Headers.TryAddWithoutValidation("X-Forwarded-For", "10.9.8.7");
        if (method is "POST" or "PUT" or "PATCH")
        {
            request.Content = new StringContent("hello body", Encoding.UTF8, "text/plain");
        }

        using var response = await router.Client.SendAsync(request);
        var echo = Upstream.Parse(await response.Content.ReadAsStringAsync());

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        echo.GetProperty("method").GetString().Should().Be(method);
        echo.GetProperty("path").GetString().Should().Be("/echo/x y");
        echo.GetProperty("query").GetString().Should().Be("?b=2&a=1&a=3");
        var headers = echo.GetProperty("headers");
        headers.GetProperty("X-Custom").GetString().Should().Be("v1");
        headers.TryGetProperty("X-Hop", out _).Should().BeFalse("headers named in Connection are hop-by-hop");
        headers.GetProperty("Host").GetString().Should().Be($"127.0.0.1:{router.Port}", "the upstream sees the Host the client asked for");
        headers.GetProperty("X-Forwarded-For").GetString().Should().Be("10.9.8.7, 127.0.0.1");
        headers.GetProperty("X-Forwarded-Proto").GetString().Should().Be("http");
        headers.GetProperty("X-Forwarded-Host").GetString().Should().Be($"127.0.0.1:{router.Port}");
        if (request.Content is not null)
        {
            echo.GetProperty("body").GetString().Should().Be("hello body");
            headers.GetProperty("Content-Type").GetString().Should().Be("text/plain; charset=utf-8");
        }
    }

    [Theory(Timeout = Timeout)]
    [InlineData(201)]
    [InlineData(204)]
    [InlineData(304)]
    [InlineData(404)]
    [InlineData(500)]
    [InlineData(503)]
    public async Task Forward_UpstreamStatus_IsPassedThroughWithHeaders(int status)
    {
        await using var upstream = await Upstream.StartAsync("a");
        await using var router = await RouterFixture.StartAsync(port => Tables.Table(Tables.Route(port, Tables.Group("stable", 1, upstream))));

        using var response = await router.Client.GetAsync($"/status/{status}");

        ((int)response.StatusCode).Should().Be(status);
        response.Headers.GetValues("X-Upstream").Should().Equal("a");
    }

    [Fact(Timeout = Timeout)]
    public async Task Forward_ChunkedResponse_StreamsThrough()
    {
        await using var upstream = await Upstream.StartAsync("a");
        await using var router = await RouterFixture.StartAsync(port => Tables.Table(Tables.Route(port, Tables.Group("stable", 1, upstream))));

        using var response = await router.Client.GetAsync("/chunked", HttpCompletionOption.ResponseHeadersRead);

        response.Headers.TransferEncodingChunked.Should().BeTrue();
        (await response.Content.ReadAsStringAsync()).Should().Be("chunk 0\nchunk 1\nchunk 2\nchunk 3\nchunk 4\n");
    }


    [Fact(Timeout = Timeout)]
    public async Task Forward_WebSocket_EchoesThroughTheTunnel()
    {
        await using var upstream = await Upstream.StartAsync("ws-a");
        await using var router = await RouterFixture.StartAsync(port => Tables.Table(Tables.Route(port, Tables.Group("stable", 1, upstream))));
        using var socket = new ClientWebSocket();

        await socket.ConnectAsync(new Uri($"ws://127.0.0.1:{router.Port}/ws"), CancellationToken.None);
        var buffer = new byte[1024];
        foreach (var text in new[] { "hello", "world" })
        {
            await socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, CancellationToken.None);
            var result = await socket.ReceiveAsync(buffer, CancellationToken.None);
            Encoding.UTF8.GetString(buffer, 0, result.Count).Should().Be($"ws-a:{text}");
        }

        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);
        socket.State.Should().Be(WebSocketState.Closed);
    }

    [Fact(Timeout = Timeout)]
    public async Task Forward_UpstreamRefusesConnections_Answers502NamingTheCause()
    {
        var dead = new Endpoint("127.0.0.1", FreePort.Next());
        await using var router = await RouterFixture.StartAsync(port => Tables.Table(Tables.Route(port, Tables.Group("stable", 1, dead))));

        using var response = await router.Client.GetAsync("/");

        response.StatusCode.Should().Be(HttpStatusCode.BadGateway);
        (await response.Content.ReadAsStringAsync()).Should().Be($"upstream {dead} refused the connection\n");
    }

    [Fact(Timeout = Timeout)]
    public async Task Forward_UpstreamTooSlow_Answers504AndCancelsIt()
    {
        await using var upstream = await Upstream.StartAsync("slow");
        await using var router = await RouterFixture.StartAsync(port => Tables.Table(Tables.Route(port, Tables.Group("stable", 1, upstream)) with { Timeout = TimeSpan.FromMilliseconds(300) }));
        var watch = Stopwatch.StartNew();

        using var response = await router.Client.GetAsync("/slow/5000");

        response.StatusCode.Should().Be(HttpStatusCode.GatewayTimeout);
        (await response.Content.ReadAsStringAsync()).Should().Be($"upstream {upstream.Address} did not answer within 0.3s\n");
        watch.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(4));
        await upstream.Aborted.Task.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact(Timeout = Timeout)]
    public async Task Forward_ClientAbortsMidBody_UpstreamRequestIsCancelled()
    {
        await using var upstream = await Upstream.StartAsync("a");
        await using var router = await RouterFixture.StartAsync(port => Tables.Table(Tables.Route(port, Tables.Group("stable", 1, upstream))));
        using var cts = new CancellationTokenSource();
        var body = new GeneratedStream(100L * 1024 * 1024, pauseAfter: 256 * 1024, cts);

        var send = router.Client.PostAsync("/slow-read", new StreamContent(body), cts.Token);
        await FluentActions.Awaiting(() => send).Should().ThrowAsync<OperationCanceledException>();

        await upstream.Aborted.Task.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact(Timeout = Timeout)]
    public async Task Forward_Http2ClientOverTls_IsServedAndForwardedAsHttp11()
    {
        var folder = Directory.CreateTempSubdirectory("gantry-tls-").FullName;
        try
        {
            using var key = System.Security.Cryptography.RSA.Create(2048);
            var request = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=127.0.0.1", key, System.Security.Cryptography.HashAlgorithmName.SHA256, System.Security.Cryptography.RSASignaturePadding.Pkcs1);
            using var cert = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
            await File.WriteAllTextAsync(Path.Combine(folder, "cert.pem"), cert.ExportCertificatePem());
            await File.WriteAllTextAsync(Path.Combine(folder, "key.pem"), key.ExportPkcs8PrivateKeyPem());
            await using var upstream = await Upstream.StartAsync("a");
            await using var router = await RouterFixture.StartAsync(port => Tables.Table(Tables.Route(port, Tables.Group("stable", 1, upstream)) with
            {
                Tls = new TlsSpec(Path.Combine(folder, "cert.pem"), Path.Combine(folder, "key.pem")),
            }));
            using var client = new HttpClient(new SocketsHttpHandler { SslOptions = { RemoteCertificateValidationCallback = (_, presented, _, _) => presented?.GetCertHashString() == cert.GetCertHashString() } })
            {
                BaseAddress = new Uri($"https://127.0.0.1:{router.Port}"),
                DefaultRequestVersion = HttpVersion.Version20,
                DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
            };

            using var response = await client.GetAsync("/echo/h2");

            response.Version.Should().Be(HttpVersion.Version20);
            var echo = Upstream.Parse(await response.Content.ReadAsStringAsync());
            echo.GetProperty("path").GetString().Should().Be("/echo/h2");
            echo.GetProperty("headers").GetProperty("X-Forwarded-Proto").GetString().Should().Be("https");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact(Timeout = Timeout)]
    public async Task Forward_NoRouteForHost_Answers404()
    {
        await using var upstream = await Upstream.StartAsync("a");
        await using var router = await RouterFixture.StartAsync(port => Tables.Table(Tables.Route(port, Tables.Group("stable", 1, upstream)) with { Hosts = ["shop.local"] }));
        using var request = new HttpRequestMessage(HttpMethod.Get, "/who");
        request.Headers.Host = "other.local";

        using var response = await router.Client.SendAsync(request);

        response.StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await response.Content.ReadAsStringAsync()).Should().Be("no route for other.local/who\n");
    }

    /// <summary>A stream of generated bytes that never exists whole; optionally stalls and cancels the client.</summary>
    internal sealed class GeneratedStream(long length, long pauseAfter = long.MaxValue, CancellationTokenSource? cancelAtPause = null) : Stream
    {
        private long position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => length;

        public override long Position { get => position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (position >= pauseAfter && cancelAtPause is not null)
            {
                await Task.Delay(200, CancellationToken.None);
                await cancelAtPause.CancelAsync();
                cancellationToken.ThrowIfCancellationRequested();
                await Task.Delay(System.Threading.Timeout.Infinite, cancelAtPause.Token);
            }

            var n = (int)Math.Min(buffer.Length, length - position);
            buffer.Span[..n].Fill((byte)'x');
            position += n;
            return n;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
