using Gantry.Proxy.Hosting;
using Gantry.Proxy.Routing;
using Gantry.Testing;

namespace Gantry.Proxy.Tests.Hosting;

/// <summary>A router with a listener for each of many services: more than a user's inotify instances (128 by default).</summary>
public sealed class ManyListenersTests
{
    [Fact(Timeout = 120_000)]
    public async Task Apply_MoreListenersThanTheUsersInotifyInstances_EveryOneServes()
    {
        var limit = int.Parse(await File.ReadAllTextAsync("/proc/sys/fs/inotify/max_user_instances"), System.Globalization.CultureInfo.InvariantCulture);
        var count = Math.Min(limit, 1000) + 20;
        await using var upstream = await Upstream.StartAsync("one");
        var ports = Enumerable.Range(0, count).Select(_ => FreePort.Next()).ToList();
        var routes = ports.Select((port, i) => Tables.Route(port, Tables.Group("v1", 100, upstream)) with { Name = $"s{i:0000}" }).ToArray();
        await using var router = new Router(TimeProvider.System);

        var result = await router.ApplyAsync(Tables.Table(routes), CancellationToken.None);

        result.Error.Should().BeNull();
        result.Applied.Should().BeTrue();
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        foreach (var port in new[] { ports[0], ports[count / 2], ports[^1] })
        {
            (await client.GetStringAsync(new Uri($"http://127.0.0.1:{port}/who"))).Should().Be("one");
        }
    }
}
