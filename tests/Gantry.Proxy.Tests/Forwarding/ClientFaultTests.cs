using System.Net;
using System.Net.Sockets;
using System.Text;
using Gantry.Proxy.Routing;
using Endpoint = Gantry.Core.Manifest.Values.Endpoint;

namespace Gantry.Proxy.Tests.Forwarding;

/// <summary>
/// What an unauthenticated client can do to a healthy instance through the router: nothing. Malformed bodies,
/// slow uploads and aborted requests are the client's fault (400, 408, 499): never an ejection, never the
/// instance's error rate. And what a client says of itself or of the router is not passed on.
/// </summary>
public sealed class ClientFaultTests
{
    private const int Timeout = 90_000;

    private static RoutingTable Table(int port, Upstream upstream, TimeSpan timeout) => Tables.Table(Tables.Route(port, Tables.Group("stable", 1, upstream)) with { Timeout = timeout });

    private static async Task<string> RawAsync(int port, string request, TimeSpan? pauseAfter = null, string? rest = null)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, port);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request));
        if (pauseAfter is { } pause)
        {
            await Task.Delay(pause);
            if (rest is not null)
            {
                try
                {
                    await stream.WriteAsync(Encoding.ASCII.GetBytes(rest));
                }
                catch (IOException)
                {
                    // The router already answered and closed.
                }
            }
        }

        using var reader = new StreamReader(stream, Encoding.ASCII);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        try
        {
            return await reader.ReadToEndAsync(timeout.Token);
        }
        catch (IOException)
        {
            return string.Empty;
        }
    }

    private static (long Requests, long Errors5xx, long Errors4xx, long Failures) Counts(Gantry.Proxy.Hosting.Router router, Upstream upstream)
    {
        var snapshot = router.Metrics.For("shop", "stable", upstream.Address).Read(TimeSpan.FromMinutes(5));
        return (snapshot.Requests, snapshot.Errors5xx, snapshot.Errors4xx, snapshot.Failures);
    }

    [Fact(Timeout = Timeout)]
    public async Task MalformedChunkedBodies_Answer400_NeitherEjectNorCountAsInstanceErrors()
    {
        await using var upstream = await Upstream.StartAsync("a");
        await using var router = await RouterFixture.StartAsync(port => Table(port, upstream, TimeSpan.FromSeconds(10)));
        var malformed = new[]
        {
            "POST /echo/x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nZZ\r\nhello\r\n0\r\n\r\n",
            "POST /echo/x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhelloXX0\r\n\r\n",
            "POST /echo/x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nffffffffffffffffff\r\nx\r\n",
            "POST /echo/x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n-5\r\nhello\r\n0\r\n\r\n",
        };

        var answers = new List<string>();
        for (var i = 0; i < 20; i++)
        {
            answers.Add(await RawAsync(router.Port, malformed[i % malformed.Length]));
        }

        answers.Should().OnlyContain(a => a.StartsWith("HTTP/1.1 400", StringComparison.Ordinal), "a malformed body is the client's mistake");
        router.Router.Current.Routes.First().Groups[0].Instances[0].IsEjected.Should().BeFalse("20 bad clients in a row eject nothing");
        (await router.Client.GetAsync("/who")).StatusCode.Should().Be(HttpStatusCode.OK);
        var counts = Counts(router.Router, upstream);
        counts.Errors5xx.Should().Be(0);
        counts.Failures.Should().Be(0);
        counts.Errors4xx.Should().Be(20);
    }

    [Fact(Timeout = Timeout)]
    public async Task SlowUploads_HittingTheRouteTimeout_Answer408_AndDoNotEject()
    {
        await using var upstream = await Upstream.StartAsync("a");
        await using var router = await RouterFixture.StartAsync(port => Table(port, upstream, TimeSpan.FromMilliseconds(600)));

        var slow = Enumerable.Range(0, 8).Select(_ => RawAsync(router.Port,
            "POST /echo/x HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\nConnection: close\r\n\r\nonly ten b", TimeSpan.FromSeconds(2), new string('x', 90))).ToList();
        var answers = await Task.WhenAll(slow);

        answers.Should().OnlyContain(a => a.StartsWith("HTTP/1.1 408", StringComparison.Ordinal), "the client did not send its body in time");
        router.Router.Current.Routes.First().Groups[0].Instances[0].IsEjected.Should().BeFalse();
        (await router.Client.GetAsync("/who")).StatusCode.Should().Be(HttpStatusCode.OK);
        var counts = Counts(router.Router, upstream);
        (counts.Errors5xx, counts.Failures).Should().Be((0, 0));
    }

    [Fact(Timeout = Timeout)]
    public async Task MixedWithHealthyLoad_BadClientsLeaveTheErrorRateAtZero()
    {
        await using var upstream = await Upstream.StartAsync("a");
        // The route's timeout (5 s) is longer than the slow answer (2 s): a client that left is a client error whether
        // the router notices it at once or, on a loaded machine, only when it writes the answer; with a timeout shorter
        // than the answer, a late notice would turn it into a 504 counted against the instance.
        await using var router = await RouterFixture.StartAsync(port => Table(port, upstream, TimeSpan.FromSeconds(5)));
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(8));
        var good = 0;
        var bad = 0;
        var load = Task.Run(async () =>
        {
            for (var i = 0; i < 400 && !stop.IsCancellationRequested; i++)
            {
                using var response = await router.Client.GetAsync("/who");
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    Interlocked.Increment(ref good);
                }
                else
                {
                    Interlocked.Increment(ref bad);
                }
            }
        });
        var attackers = Enumerable.Range(0, 30).Select(async i =>
        {
            switch (i % 3)
            {
                case 0:
                    await RawAsync(router.Port, "POST /echo/x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nQQ\r\n");
                    break;
                case 1:
                    await RawAsync(router.Port, "POST /echo/x HTTP/1.1\r\nHost: a\r\nContent-Length: 50\r\nConnection: close\r\n\r\nabc", TimeSpan.FromSeconds(2));
                    break;
                default:
                    // The client goes away while its request is upstream.
                    using (var client = new TcpClient())
                    {
                        await client.ConnectAsync(IPAddress.Loopback, router.Port);
                        await client.GetStream().WriteAsync(Encoding.ASCII.GetBytes("GET /slow/2000 HTTP/1.1\r\nHost: a\r\n\r\n"));
                        await Task.Delay(100);
                    }

                    break;
            }
        }).ToList();
        await Task.WhenAll(attackers);
        await load;

        bad.Should().Be(0, "healthy clients never see an error while bad clients come and go");
        good.Should().BeGreaterThan(0);
        router.Router.Current.Routes.First().Groups[0].Instances[0].IsEjected.Should().BeFalse();
        var counts = Counts(router.Router, upstream);
        (counts.Errors5xx, counts.Failures).Should().Be((0, 0), "the instance's error rate stays at zero");
    }

    [Fact(Timeout = Timeout)]
    public async Task SpoofedAndHopByHopHeaders_AreNotPassedOn_AndH2cIsNotUpgraded()
    {
        await using var upstream = await Upstream.StartAsync("a");
        await using var router = await RouterFixture.StartAsync(port => Table(port, upstream, TimeSpan.FromSeconds(10)));

        var answer = await RawAsync(router.Port, "GET /echo/h HTTP/1.1\r\nHost: a\r\nX-Gantry-Mirror: 1\r\nForwarded: for=10.0.0.1;proto=https\r\nX-Real-IP: 10.0.0.1\r\n"
            + "Connection: keep-alive, X-Hop\r\nX-Hop: secret\r\nConnection: close\r\n\r\n");
        var body = answer[(answer.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4)..];
        body = body.Contains('{', StringComparison.Ordinal) ? body[body.IndexOf('{', StringComparison.Ordinal)..(body.LastIndexOf('}') + 1)] : body;
        var headers = Upstream.Parse(body).GetProperty("headers");

        headers.TryGetProperty("X-Gantry-Mirror", out _).Should().BeFalse("only the router marks a mirrored copy");
        headers.TryGetProperty("Forwarded", out _).Should().BeFalse();
        headers.GetProperty("X-Real-IP").GetString().Should().Be("127.0.0.1");
        headers.TryGetProperty("X-Hop", out _).Should().BeFalse("a header named in Connection is hop-by-hop, whatever else is listed");
        upstream.MirroredRequests.Should().Be(0);

        var h2c = await RawAsync(router.Port, "GET /echo/u HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, HTTP2-Settings, close\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n");
        h2c.Should().StartWith("HTTP/1.1 200", "the request is served as plain HTTP/1.1, never switched to h2c");
        h2c.Should().NotContain("101 Switching");
        var upgraded = Upstream.Parse(h2c[h2c.IndexOf('{', StringComparison.Ordinal)..(h2c.LastIndexOf('}') + 1)]).GetProperty("headers");
        upgraded.TryGetProperty("Upgrade", out _).Should().BeFalse();
        upgraded.TryGetProperty("HTTP2-Settings", out _).Should().BeFalse();
    }

    [Fact(Timeout = Timeout)]
    public async Task ClientFault_Classification_NamesTheClientNotTheInstance()
    {
        var bad = new HttpRequestException("copying", new Microsoft.AspNetCore.Http.BadHttpRequestException("Bad chunk size data.", 400));
        Gantry.Proxy.Forwarding.HttpForwarder.ClientFault(bad, null).Should().Be((400, "malformed request body: Bad chunk size data."));
        Gantry.Proxy.Forwarding.HttpForwarder.ClientFault(new HttpRequestException("x", new Microsoft.AspNetCore.Http.BadHttpRequestException("slow", 408)), null)!.Value.Status.Should().Be(408);
        Gantry.Proxy.Forwarding.HttpForwarder.ClientFault(new HttpRequestException("upstream reset", new IOException("reset")), null).Should().BeNull("an upstream failure stays the instance's");
        Gantry.Proxy.Forwarding.HttpForwarder.ClientFault(new OperationCanceledException(), null).Should().BeNull("a timeout with no body pending is the upstream's");
        await Task.CompletedTask;
        _ = new Endpoint("127.0.0.1", 1);
    }
}
