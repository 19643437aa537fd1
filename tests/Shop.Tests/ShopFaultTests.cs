using System.Diagnostics;
using System.Net;
using Gantry.Testing;

namespace Shop.Tests;

/// <summary>The sample service's fault switches, against the real process on loopback.</summary>
public sealed class ShopFaultTests
{
    private const int Timeout = 60_000;

    private static Dictionary<string, string> Env(params (string Key, string Value)[] pairs) =>
        pairs.ToDictionary(p => p.Key, p => p.Value);

    private static HttpClient Client(ShopInstance shop) => new() { BaseAddress = shop.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };

    [Fact(Timeout = Timeout)]
    public async Task ErrorRate_PointTwo_Gives20PercentPlusMinus3Over2000Requests()
    {
        await using var shop = await ShopInstance.StartAsync(Env(("FAULT_ERROR_RATE", "0.2"), ("FAULT_SEED", "42")), CancellationToken.None);
        using var client = Client(shop);
        var errors = 0;
        var ok = 0;
        for (var i = 0; i < 2000; i++)
        {
            using var response = await client.GetAsync(new Uri(i % 2 == 0 ? "/" : "/api/items", UriKind.Relative));
            if (response.StatusCode == HttpStatusCode.InternalServerError)
            {
                errors++;
            }
            else if (response.StatusCode == HttpStatusCode.OK)
            {
                ok++;
            }
        }

        (errors + ok).Should().Be(2000, "every answer is a 200 or an injected 500");
        (errors / 2000.0).Should().BeInRange(0.17, 0.23);
    }

    [Fact(Timeout = Timeout)]
    public async Task FaultAfterSeconds_HealthyAtFirst_FailsOnceTheTimeHasPassed()
    {
        await using var shop = await ShopInstance.StartAsync(Env(("FAULT_ERROR_RATE", "1"), ("FAULT_AFTER_SECONDS", "3")), CancellationToken.None);
        using var client = Client(shop);
        (await client.GetAsync(new Uri("/api/items", UriKind.Relative))).StatusCode.Should().Be(HttpStatusCode.OK, "the release is good for its first 3 s");
        await Task.Delay(TimeSpan.FromSeconds(3.5));
        (await client.GetAsync(new Uri("/api/items", UriKind.Relative))).StatusCode.Should().Be(HttpStatusCode.InternalServerError, "then it turns bad");
        (await client.GetAsync(new Uri("/health", UriKind.Relative))).StatusCode.Should().Be(HttpStatusCode.OK, "while its health still says it is fine");
    }

    [Fact(Timeout = Timeout)]
    public async Task ErrorRate_Zero_GivesNoErrors()
    {
        await using var shop = await ShopInstance.StartAsync(Env(), CancellationToken.None);
        using var client = Client(shop);
        for (var i = 0; i < 300; i++)
        {
            using var response = await client.GetAsync(new Uri("/api/items", UriKind.Relative));
            response.StatusCode.Should().Be(HttpStatusCode.OK);
        }
    }

    [Fact(Timeout = Timeout)]
    public async Task ErrorRate_One_FailsApplicationRequestsButNotHealthOrVersion()
    {
        await using var shop = await ShopInstance.StartAsync(Env(("FAULT_ERROR_RATE", "1")), CancellationToken.None);
        using var client = Client(shop);
        (await client.GetAsync(new Uri("/", UriKind.Relative))).StatusCode.Should().Be(HttpStatusCode.InternalServerError);
        (await client.GetAsync(new Uri("/api/items", UriKind.Relative))).StatusCode.Should().Be(HttpStatusCode.InternalServerError);
        (await client.GetAsync(new Uri("/health", UriKind.Relative))).StatusCode.Should().Be(HttpStatusCode.OK);
        (await client.GetAsync(new Uri("/health/ready", UriKind.Relative))).StatusCode.Should().Be(HttpStatusCode.OK);
        (await client.GetAsync(new Uri("/version", UriKind.Relative))).StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Fact(Timeout = Timeout)]
    public async Task Version_AppVersionSet_IsReportedInBodyHeaderAndVersionEndpoint()
    {
        await using var shop = await ShopInstance.StartAsync(Env(("APP_VERSION", "2.1.0")), CancellationToken.None);
        using var client = Client(shop);
        (await client.GetStringAsync(new Uri("/version", UriKind.Relative))).Trim().Should().Be("2.1.0");
        using var response = await client.GetAsync(new Uri("/", UriKind.Relative));
        response.Headers.GetValues("X-App-Version").Should().Equal("2.1.0");
        (await response.Content.ReadAsStringAsync()).Should().Be("""{"service":"shop","version":"2.1.0"}""");
        (await client.GetStringAsync(new Uri("/api/items", UriKind.Relative))).Should().StartWith("""{"version":"2.1.0","items":[{"id":1,""");
    }

    [Fact(Timeout = Timeout)]
    public async Task Latency_FaultLatencyMs_DelaysApplicationRequestsOnly()
    {
        await using var shop = await ShopInstance.StartAsync(Env(("FAULT_LATENCY_MS", "400")), CancellationToken.None);
        using var client = Client(shop);
        var app = new List<double>();
        var health = new List<double>();
        for (var i = 0; i < 10; i++)
        {
            app.Add(await TimeAsync(client, "/api/items"));
            health.Add(await TimeAsync(client, "/health"));
        }

        app.Should().OnlyContain(ms => ms >= 395, "every application request waits the injected 400 ms");
        Median(health).Should().BeLessThan(400, "health checks carry no injected latency");
    }

    [Fact(Timeout = Timeout)]
    public async Task Latency_Jitter_SpreadsDelaysAroundTheMean()
    {
        await using var shop = await ShopInstance.StartAsync(Env(("FAULT_LATENCY_MS", "300"), ("FAULT_LATENCY_JITTER_MS", "200"), ("FAULT_SEED", "7")), CancellationToken.None);
        using var client = Client(shop);
        var samples = new List<double>();
        for (var i = 0; i < 30; i++)
        {
            samples.Add(await TimeAsync(client, "/"));
        }

        samples.Should().OnlyContain(ms => ms >= 95, "the delay is at least 300 - 200 ms");
        (samples.Max() - samples.Min()).Should().BeGreaterThan(150, "a ±200 ms jitter spreads 30 samples widely");
        samples.Min().Should().BeLessThan(295, "some delays fall below the 300 ms mean");
    }

    [Fact(Timeout = Timeout)]
    public async Task Spikes_RareShare_DelaysOnlySomeRequests()
    {
        await using var shop = await ShopInstance.StartAsync(Env(("FAULT_SPIKE_RATE", "0.2"), ("FAULT_SPIKE_MS", "300"), ("FAULT_SEED", "3")), CancellationToken.None);
        using var client = Client(shop);
        var samples = new List<double>();
        for (var i = 0; i < 40; i++)
        {
            samples.Add(await TimeAsync(client, "/api/items"));
        }

        var spiked = samples.Count(ms => ms >= 295);
        spiked.Should().BeInRange(2, 20, "about a fifth of 40 requests spike");
        Median(samples).Should().BeLessThan(100, "most requests are not delayed");
    }

    [Fact(Timeout = Timeout)]
    public async Task StartupDelay_Set_NothingListensUntilItPasses()
    {
        var watch = Stopwatch.StartNew();
        await using var shop = await ShopInstance.StartAsync(Env(("STARTUP_DELAY_MS", "2000")), CancellationToken.None, waitUntilListening: false);
        await shop.WaitUntilListeningAsync(TimeSpan.FromSeconds(30), CancellationToken.None);
        watch.Elapsed.Should().BeGreaterThanOrEqualTo(TimeSpan.FromMilliseconds(2000));
    }

    [Fact(Timeout = Timeout)]
    public async Task Ready_False_ReadinessFailsWhileLivenessPasses()
    {
        await using var shop = await ShopInstance.StartAsync(Env(("READY", "false")), CancellationToken.None);
        using var client = Client(shop);
        (await client.GetAsync(new Uri("/health/ready", UriKind.Relative))).StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        (await client.GetAsync(new Uri("/health", UriKind.Relative))).StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Fact(Timeout = Timeout)]
    public async Task CrashAfterRequests_Five_AnswersFiveThenExits()
    {
        await using var shop = await ShopInstance.StartAsync(Env(("CRASH_AFTER_REQUESTS", "5")), CancellationToken.None);
        using var client = Client(shop);
        for (var i = 0; i < 5; i++)
        {
            (await client.GetAsync(new Uri("/", UriKind.Relative))).StatusCode.Should().Be(HttpStatusCode.OK);
        }

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await shop.Process.WaitForExitAsync(cts.Token);
        shop.Process.ExitCode.Should().Be(70);
    }

    [Theory(Timeout = Timeout)]
    [InlineData("FAULT_ERROR_RATE", "2", "FAULT_ERROR_RATE must be a number from 0 to 1, got '2'")]
    [InlineData("FAULT_LATENCY_MS", "-1", "FAULT_LATENCY_MS must be a number from 0 to 600000, got '-1'")]
    [InlineData("READY", "maybe", "READY must be true or false, got 'maybe'")]
    [InlineData("CRASH_AFTER_REQUESTS", "0", "CRASH_AFTER_REQUESTS must be a number from 1 to")]
    [InlineData("FAULT_AFTER_SECONDS", "soon", "FAULT_AFTER_SECONDS must be a number from 0 to 86400, got 'soon'")]
    public async Task Start_InvalidSwitch_ExitsTwoWithOneClearLine(string name, string value, string message)
    {
        var result = await ChildProcess.RunAsync("dotnet", [RepoPaths.ShopDll, "--urls", $"http://127.0.0.1:{FreePort.Next()}"], TimeSpan.FromSeconds(30), Env((name, value)));
        result.ExitCode.Should().Be(2);
        result.Stderr.Trim().Should().StartWith("shop: " + message);
        result.Stderr.Trim().Split('\n').Should().HaveCount(1);
    }

    private static async Task<double> TimeAsync(HttpClient client, string path)
    {
        var watch = Stopwatch.StartNew();
        using var response = await client.GetAsync(new Uri(path, UriKind.Relative));
        response.EnsureSuccessStatusCode();
        return watch.Elapsed.TotalMilliseconds;
    }

    private static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);
}
