using Gantry.Proxy.Hosting;
using Gantry.Proxy.Routing;
using Gantry.Testing;

namespace Gantry.Proxy.Tests.Hosting;

/// <summary>A router with a listener for each of many services: more than a user's inotify instances (128 by default), on one server.</summary>
public sealed class ManyListenersTests
{
    private const string KestrelHeartbeat = "Kestrel Timer";

    [Fact(Timeout = 120_000)]
    public async Task Apply_MoreListenersThanTheUsersInotifyInstances_EveryOneServes()
    {
        var limit = int.Parse(await File.ReadAllTextAsync("/proc/sys/fs/inotify/max_user_instances"), System.Globalization.CultureInfo.InvariantCulture);
        var count = Math.Min(limit, 1000) + 20;
        await using var upstream = await Upstream.StartAsync("one");
        var ports = Enumerable.Range(0, count).Select(_ => FreePort.Next()).ToList();
        var routes = ports.Select((port, i) => Tables.Route(port, Tables.Group("v1", 100, upstream)) with { Name = $"s{i:0000}" }).ToArray();
        await using var router = new Router(TimeProvider.System);
        var heartbeats = ThreadsNamed(KestrelHeartbeat);

        var result = await router.ApplyAsync(Tables.Table(routes), CancellationToken.None);

        result.Error.Should().BeNull();
        result.Applied.Should().BeTrue();

        // One Kestrel server behind every cleartext listener: one heartbeat thread waking each second, not one per service
        // (other tests running beside this one may start a few servers of their own meanwhile).
        ThreadsNamed(KestrelHeartbeat).Should().BeLessThan(heartbeats + 20, $"{count} listeners share one server");
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        foreach (var port in new[] { ports[0], ports[count / 2], ports[^1] })
        {
            (await client.GetStringAsync(new Uri($"http://127.0.0.1:{port}/who"))).Should().Be("one");
        }
    }

    /// <summary>How many threads of this process have <paramref name="name"/> (as the kernel holds it: 15 characters at most).</summary>
    private static int ThreadsNamed(string name) =>
        Directory.GetDirectories("/proc/self/task").Count(task => File.Exists(Path.Combine(task, "comm")) && ReadOrEmpty(Path.Combine(task, "comm")).Trim() == name);

    private static string ReadOrEmpty(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (IOException)
        {
            return string.Empty; // a thread that ended while being read
        }
    }
}
