using System.Text.Json;
using Gantry.Core.Manifest;
using Gantry.Core.Manifest.Values;
using Gantry.Core.Rollouts;
using Gantry.Core.Traffic;
using Gantry.Proxy.Control;
using Gantry.Proxy.Hosting;
using Gantry.Testing;

namespace Gantry.Proxy.Tests.Control;

/// <summary>
/// The table a router left on disk, read back without the serializer when a router starts: every field the serializer
/// writes comes back equal, a table an older router wrote without the newer fields still reads, and a damaged file
/// is refused with where it is wrong, changing nothing.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class SavedTableReaderTests : IDisposable
{
    private readonly string data = Directory.CreateTempSubdirectory("gantry-saved-table-").FullName;

    public void Dispose() => Directory.Delete(data, recursive: true);

    /// <summary>A route with every field set to something other than its default.</summary>
    private static TrafficRoute Full(int port) => new(
        "shop.default",
        new Endpoint("127.0.0.1", port),
        [new TrafficBackend("v1", 70, [new Endpoint("127.0.0.1", 5001), new Endpoint("::1", 5003)]), new TrafficBackend("v2", 30, [new Endpoint("localhost", 5002)])],
        [new TrafficHeaderRoute([new RouteMatch(MatchSource.Header, "X-Canary", MatchKind.Exact, "1"), new RouteMatch(MatchSource.Cookie, "beta", MatchKind.Regex, "^y")], "v2")],
        new TrafficMirror("v2", 5, [new RouteMatch(MatchSource.Header, "X-Mirror", MatchKind.Exact, "on")]),
        new StickySpec("gantry-shop", "X-User"),
        TimeSpan.FromSeconds(12.5),
        new RateLimit(100, 20),
        "Back at 10:00 UTC",
        TimeSpan.FromSeconds(30),
        new ServiceTls("/etc/shop/cert.pem", "/etc/shop/key.pem"));

    [Fact(Timeout = 10_000)]
    public void Read_WhatTheSerializerWrote_EveryFieldComesBackEqual()
    {
        var table = new RouteTable(42, [Full(8080), Full(8081) with { Name = "api.default", Mirror = null, Sticky = new StickySpec(null, "X-User"), Pause = null, Tls = null }]);

        SavedTableReader.Read(JsonSerializer.Serialize(table, GantryJson.Options)).Should().Be(table);
        SavedTableReader.Read(JsonSerializer.Serialize(RouteTable.Empty, GantryJson.Options)).Should().Be(RouteTable.Empty);
    }

    [Fact(Timeout = 10_000)]
    public void Read_CoversEveryFieldOfARoute_SoAFieldAddedLaterIsNotSilentlyDropped()
    {
        // The round trip above proves only the fields set in Full; this fails when a route gains one Full leaves unset.
        var route = Full(8080);
        foreach (var property in typeof(TrafficRoute).GetProperties().Where(p => p.GetIndexParameters().Length == 0 && p.Name != "EqualityContract"))
        {
            var value = property.GetValue(route);
            value.Should().NotBeNull($"Full sets {property.Name}: give it a value there and read it in SavedTableReader");
            if (property.PropertyType.IsValueType)
            {
                value.Should().NotBe(Activator.CreateInstance(property.PropertyType), $"Full sets {property.Name} to something other than its default");
            }
        }
    }

    [Fact(Timeout = 10_000)]
    public void Read_ATableWrittenWithoutTheNewerFields_ReadsThemAsTheSerializerWould()
    {
        const string older = """{"version":3,"routes":[{"name":"shop.default","listen":{"host":"127.0.0.1","port":8080},"backends":[{"name":"1","weight":100,"instances":[{"host":"127.0.0.1","port":5001}]}],"drain":"00:00:05"}]}""";

        var read = SavedTableReader.Read(older);

        read.Should().Be(JsonSerializer.Deserialize<RouteTable>(older, GantryJson.Options)! with { Routes = read.Routes }, "the version as the serializer reads it");
        var route = read.Routes.Single();
        route.HeaderRoutes.Should().BeEmpty();
        (route.Mirror, route.Sticky, route.RateLimit, route.Maintenance, route.Pause, route.Tls).Should().Be((null, null, null, null, null, null));
        route.Drain.Should().Be(TimeSpan.FromSeconds(5));
    }

    [Theory(Timeout = 10_000)]
    [InlineData("""{"version":1,"routes":[{"name":"shop","listen":{"host":"127.0.0.1","port":"x"},"drain":"00:00:05"}]}""", "routes[0]")]
    [InlineData("""{"version":1,"routes":[{"listen":{"host":"127.0.0.1","port":1}}]}""", "routes[0].'name' is missing")]
    [InlineData("""{"version":1,"routes":[{"name":"a","listen":{"host":"h","port":1},"backends":[{"name":"v","instances":[]}]}]}""", "routes[0].backends[0].'weight' is missing")]
    [InlineData("""{"version":1,"routes":[{"name":"a","listen":{"host":"h","port":1},"drain":"soon"}]}""", "routes[0].drain")]
    [InlineData("""{"version":1,"routes":[""", "LineNumber: 0")]
    public void Read_ADamagedTable_IsRefusedWithWhereItIsWrong(string json, string where)
    {
        var read = () => SavedTableReader.Read(json);

        read.Should().Throw<JsonException>().Which.Message.Should().Contain(where);
    }

    [Fact(Timeout = 30_000)]
    public async Task RestoreAsync_ADamagedFile_ServesNothingAndLeavesTheFileAsItWas_AGoodOne_IsServedWithoutWritingItAgain()
    {
        var files = new RouterFiles(data);
        Directory.CreateDirectory(files.Folder);
        await File.WriteAllTextAsync(files.StateFile, """{"version":2,"routes":[{"name":7}]}""");

        await using (var router = new Router(TimeProvider.System, prepareListeners: true))
        using (var control = new RouterControl(router, files.StateFile))
        {
            var refused = await control.RestoreAsync(default);
            refused.Applied.Should().BeFalse();
            refused.Error.Should().Contain(files.StateFile).And.Contain("routes[0]");
            control.Current.Should().Be(RouteTable.Empty);
        }

        (await File.ReadAllTextAsync(files.StateFile)).Should().Be("""{"version":2,"routes":[{"name":7}]}""");

        var port = FreePort.Next();
        var table = new RouteTable(5, [Full(port) with { Tls = null, Backends = [new TrafficBackend("v1", 70, [new Endpoint("127.0.0.1", FreePort.Next())]), new TrafficBackend("v2", 30, [new Endpoint("127.0.0.1", FreePort.Next())])] }]);
        await File.WriteAllTextAsync(files.StateFile, JsonSerializer.Serialize(table, GantryJson.Options));
        var written = File.GetLastWriteTimeUtc(files.StateFile);
        await Task.Delay(20);
        await using (var router = new Router(TimeProvider.System, prepareListeners: true))
        using (var control = new RouterControl(router, files.StateFile))
        {
            (await control.RestoreAsync(await RouterControl.ReadSavedAsync(files.StateFile, default), default)).Should().Be(new TableAnswer(true, null, 5));
            control.Current.Should().Be(table);
            FreePort.Accepts(port).Should().BeTrue("the restored table's listener serves");
        }

        File.GetLastWriteTimeUtc(files.StateFile).Should().Be(written, "the file already holds the table it was read from");
    }
}
