using Gantry.Proxy.Hosting;
using Gantry.Proxy.Routing;
using Gantry.Testing;

namespace Gantry.Proxy.Tests;

/// <summary>A running router on a free loopback port, and a client pointed at it.</summary>
internal sealed class RouterFixture : IAsyncDisposable
{
    private RouterFixture(Router router, int port)
    {
        Router = router;
        Port = port;
        Client = new HttpClient(new SocketsHttpHandler { UseCookies = false, AllowAutoRedirect = false, MaxConnectionsPerServer = 64 })
        {
            BaseAddress = new Uri($"http://127.0.0.1:{port}"),
            Timeout = TimeSpan.FromSeconds(60),
        };
    }

    public Router Router { get; }

    public int Port { get; }

    public HttpClient Client { get; }

    public static async Task<RouterFixture> StartAsync(Func<int, RoutingTable> table)
    {
        var port = FreePort.Next();
        var router = new Router(TimeProvider.System);
        var result = await router.ApplyAsync(table(port), CancellationToken.None);
        result.Applied.Should().BeTrue(result.Error);
        return new RouterFixture(router, port);
    }

    public Task ApplyAsync(RoutingTable table) => Router.ApplyAsync(table, CancellationToken.None);

    public async Task<string> GetStringAsync(string path, params (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        using var response = await Client.SendAsync(request);
        return await response.Content.ReadAsStringAsync();
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Router.DisposeAsync();
    }
}
