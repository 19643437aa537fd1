using System.Diagnostics;
using Gantry.Testing;

namespace Gantry.Tests.Commands;

/// <summary><c>gantry router --config</c> as a real process in front of real instances of the sample service.</summary>
public sealed class RouterCommandTests : IDisposable
{
    private readonly string temp = Directory.CreateTempSubdirectory("gantry-router-").FullName;

    public void Dispose() => Directory.Delete(temp, recursive: true);

    private static string Table(int port, int v1, int v2, int weight1, int weight2) => $$"""
        routes:
          - name: shop
            listen: 127.0.0.1:{{port}}
            groups:
              stable: { weight: {{weight1}}, instances: [127.0.0.1:{{v1}}] }
              canary: { weight: {{weight2}}, instances: [127.0.0.1:{{v2}}] }
        """;

    [Fact(Timeout = 120_000)]
    public async Task Router_ConfigFile_ServesSplitReloadsAndKeepsLastGoodTable()
    {
        await using var v1 = await ShopInstance.StartAsync(new Dictionary<string, string> { ["APP_VERSION"] = "v1" }, CancellationToken.None);
        await using var v2 = await ShopInstance.StartAsync(new Dictionary<string, string> { ["APP_VERSION"] = "v2" }, CancellationToken.None);
        var port = FreePort.Next();
        var admin = FreePort.Next();
        var path = Path.Combine(temp, "routes.yaml");
        await File.WriteAllTextAsync(path, Table(port, v1.Port, v2.Port, 90, 10));
        await using var router = ChildProcess.Start("dotnet", [RepoPaths.GantryDll, "router", "--config", path, "--admin", $"127.0.0.1:{admin}"]);
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(10) };
        await WaitForAsync(() => router.Stdout.Contains("gantry router: serving shop", StringComparison.Ordinal), router);

        var versions = new List<string>();
        for (var i = 0; i < 500; i++)
        {
            versions.Add((await client.GetStringAsync("/version")).Trim());
        }

        versions.Count(v => v == "v2").Should().BeInRange(40, 60, "10% of 500 to the canary");

        var watch = Stopwatch.StartNew();
        await File.WriteAllTextAsync(path, Table(port, v1.Port, v2.Port, 0, 100));
        while ((await client.GetStringAsync("/version")).Trim() != "v2" || (await client.GetStringAsync("/version")).Trim() != "v2")
        {
            watch.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(5), "the rewritten table is applied");
        }

        watch.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(2));
        await File.WriteAllTextAsync(path, "routes:\n  - name: shop\n    listen: 127.0.0.1:1\n    wieght: 3\n");
        // A read may catch the file half written (an empty table) first; the error of the whole file follows.
        await WaitForAsync(() => router.Stderr.Contains($"{path}:4:5: error: unknown key 'wieght' in route 1", StringComparison.Ordinal), router);
        router.Stderr.Should().Contain("still serving the last good one");
        for (var i = 0; i < 20; i++)
        {
            (await client.GetStringAsync("/version")).Trim().Should().Be("v2");
        }

        using var metrics = new HttpClient();
        var text = await metrics.GetStringAsync(new Uri($"http://127.0.0.1:{admin}/metrics"));
        text.Should().Contain("# TYPE gantry_proxy_requests_total counter").And.Contain("gantry_proxy_requests_total{route=\"shop\",group=\"canary\",code=\"2xx\"}");
    }

    /// <summary>A request still 1 s or 3.5 s from its answer when SIGTERM comes: the drain takes what it needs (the command-line parser once ended the process 2 s after the signal, with code 143).</summary>
    [Theory(Timeout = 120_000)]
    [InlineData(2000)]
    [InlineData(4500)]
    public async Task Router_Sigterm_FinishesInFlightRequestsThenExitsZero(int latencyMs)
    {
        await using var slow = await ShopInstance.StartAsync(new Dictionary<string, string> { ["APP_VERSION"] = "v1", ["FAULT_LATENCY_MS"] = latencyMs.ToString(System.Globalization.CultureInfo.InvariantCulture) }, CancellationToken.None);
        var port = FreePort.Next();
        var path = Path.Combine(temp, "routes.yaml");
        await File.WriteAllTextAsync(path, Table(port, slow.Port, slow.Port, 100, 0));
        await using var router = ChildProcess.Start("dotnet", [RepoPaths.GantryDll, "router", "--config", path]);
        // One pooled connection, opened before the slow request, so that under a loaded machine the request
        // is surely on the wire (not still connecting) when SIGTERM comes.
        using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 1 }) { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(30) };
        await WaitForAsync(() => router.Stdout.Contains("gantry router: serving shop", StringComparison.Ordinal), router);
        (await client.GetAsync("/health")).EnsureSuccessStatusCode();

        var inFlight = client.GetAsync("/api/items");
        await Task.Delay(1000);
        using (var kill = System.Diagnostics.Process.Start("kill", ["-TERM", router.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }

        using var response = await inFlight;
        response.StatusCode.Should().Be(System.Net.HttpStatusCode.OK, "the request in flight when SIGTERM came is answered");
        using var exited = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await router.WaitForExitAsync(exited.Token);
        router.ExitCode.Should().Be(0, "the router stopped once its requests were answered");
    }

    [Fact(Timeout = 60_000)]
    public async Task Router_InvalidConfig_ExitsTwoWithPositions()
    {
        var path = Path.Combine(temp, "routes.yaml");
        await File.WriteAllTextAsync(path, "routes:\n  - name: shop\n    listen: nowhere\n    groups: { stable: { weight: 1 } }\n");

        var result = await ChildProcess.RunGantryAsync(TimeSpan.FromSeconds(30), "router", "--config", path);

        result.ExitCode.Should().Be(2);
        result.Stderr.Should().Be($"{path}:3:13: error: 'listen': expected HOST:PORT such as 127.0.0.1:8080, got 'nowhere'\n");
    }

    [Fact(Timeout = 60_000)]
    public void Router_DocumentedExample_IsValid()
    {
        var result = Gantry.Proxy.Routing.RoutingTableReader.ReadFile(RepoPaths.Combine("examples", "router", "routes.yaml"));

        result.Diagnostics.Should().BeEmpty();
        result.Table!.Routes.Single().Groups.Select(g => g.Weight).Should().Equal(90, 10);
    }

    [Fact(Timeout = 30_000)]
    public async Task Router_ConflictingOrMissingOptions_AreOneLineAndExitBadInput()
    {
        var data = Directory.CreateTempSubdirectory("gantry-router-options-").FullName;
        try
        {
            var cases = new (string[] Args, int Exit, string Error)[]
            {
                (["router", "--data", data, "--config", "routes.yaml"], ExitCodes.BadInput, "gantry: --config and --data are two ways to run the router: give one"),
                (["router", "--data", data, "--admin", "127.0.0.1:9901"], ExitCodes.BadInput, "gantry: --admin is for --config; with --data the metrics are on the admin socket (and gantry server's /metrics)"),
                (["router", "--config", "routes.yaml", "--upgrade"], ExitCodes.BadInput, "gantry: --upgrade needs --data DIR"),
                (["router", "--config", "routes.yaml", "--spare"], ExitCodes.BadInput, "gantry: --spare needs --data DIR"),
                (["router", "--data", data, "--upgrade", "--spare"], ExitCodes.BadInput, "gantry: --upgrade and --spare are two ways to run the router: give one"),
                (["router"], ExitCodes.BadInput, "gantry: give --data DIR (a control plane's router) or --config FILE (a routing-table file)"),
                (["router", "--data", data, "--upgrade"], ExitCodes.Failed, $"gantry: no router serves {data}: nothing to upgrade ('gantry server' starts one)"),
            };
            foreach (var (args, exit, error) in cases)
            {
                var result = await GantryCliTests.RunAsync(args);
                result.Exit.Should().Be(exit, string.Join(' ', args));
                result.Err.Trim().Should().Be(error);
            }

            Directory.EnumerateFileSystemEntries(data).Should().BeEmpty("refusing changes nothing");
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }

    private static async Task WaitForAsync(Func<bool> condition, ChildProcess process)
    {
        var watch = Stopwatch.StartNew();
        while (!condition())
        {
            if (process.HasExited || watch.Elapsed > TimeSpan.FromSeconds(30))
            {
                throw new InvalidOperationException($"gave up waiting; stdout:\n{process.Stdout}\nstderr:\n{process.Stderr}");
            }

            await Task.Delay(50);
        }
    }
}
