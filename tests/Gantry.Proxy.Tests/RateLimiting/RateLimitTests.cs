using System.Net;
using System.Net.Sockets;
using Gantry.Proxy.Routing;

namespace Gantry.Proxy.Tests.RateLimiting;

/// <summary>Rate limits per client address at the router: over its limit a client gets 429 with Retry-After; another client is not affected.</summary>
public sealed class RateLimitTests
{
    private const int Timeout = 30_000;

    /// <summary>A client whose connections come from <paramref name="address"/> (another loopback address than the default one).</summary>
    private static HttpClient ClientFrom(string address, int port) => new(new SocketsHttpHandler
    {
        UseProxy = false,
        ConnectCallback = async (context, ct) =>
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                socket.Bind(new IPEndPoint(IPAddress.Parse(address), 0));
                await socket.ConnectAsync(context.DnsEndPoint, ct);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        },
    })
    { BaseAddress = new Uri($"http://127.0.0.1:{port}") };

    private static async Task<List<HttpResponseMessage>> SendAsync(HttpClient client, int count)
    {
        var responses = new List<HttpResponseMessage>();
        for (var i = 0; i < count; i++)
        {
            responses.Add(await client.GetAsync("/who"));
        }

        return responses;
    }

    [Fact(Timeout = Timeout)]
    public async Task RateLimit_ClientOverItsLimit_Gets429WithRetryAfterWhileAnotherClientIsServed()
    {
        await using var stable = await Upstream.StartAsync("stable");
        await using var router = await RouterFixture.StartAsync(port => Tables.Table(Tables.Route(port, Tables.Group("stable", 1, stable)) with { RateLimit = new RateLimitSpec(5, 10) }));
        using var greedy = ClientFrom("127.0.0.1", router.Port);
        using var polite = ClientFrom("127.0.0.2", router.Port);

        var flood = await SendAsync(greedy, 40);
        flood.Count(r => r.StatusCode == HttpStatusCode.OK).Should().BeInRange(10, 15, "a burst of 10, and at most 5 more in the second it takes");
        var refused = flood.Where(r => r.StatusCode == HttpStatusCode.TooManyRequests).ToList();
        refused.Should().HaveCountGreaterThanOrEqualTo(25);
        refused.Should().OnlyContain(r => r.Headers.RetryAfter != null && r.Headers.RetryAfter.Delta >= TimeSpan.FromSeconds(1));

        (await SendAsync(polite, 5)).Should().OnlyContain(r => r.StatusCode == HttpStatusCode.OK, "its own bucket is full");
        router.Router.MetricsText(TimeSpan.FromSeconds(30)).Should().Contain($"gantry_proxy_requests_total{{route=\"shop\",code=\"4xx\"}} {refused.Count}\n", "every refusal is counted");

        await Task.Delay(TimeSpan.FromSeconds(1.2));
        (await greedy.GetAsync("/who")).StatusCode.Should().Be(HttpStatusCode.OK, "the bucket refills at 5 a second");
        foreach (var response in flood)
        {
            response.Dispose();
        }
    }
}
