using System.Net;
using Gantry.Proxy.Routing;

namespace Gantry.Proxy.Tests.RateLimiting;

/// <summary>Maintenance at the router: every request answered 503 with Retry-After and the message, as JSON or HTML, none reaching an instance.</summary>
public sealed class MaintenanceTests
{
    [Fact(Timeout = 30_000)]
    public async Task Maintenance_On_Answers503WithRetryAfterAndTheMessageAsTheClientAccepts()
    {
        await using var stable = await Upstream.StartAsync("stable");
        await using var router = await RouterFixture.StartAsync(port => Tables.Table(Tables.Route(port, Tables.Group("stable", 1, stable)) with { Maintenance = new MaintenanceSpec("upgrading <db> until 10:00", 30) }));

        using var json = await router.Client.GetAsync("/who");
        json.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        json.Headers.RetryAfter!.Delta.Should().Be(TimeSpan.FromSeconds(30));
        json.Content.Headers.ContentType!.MediaType.Should().Be("application/json");
        (await json.Content.ReadAsStringAsync()).Should().Be("""{"status":503,"maintenance":true,"message":"upgrading \u003Cdb\u003E until 10:00"}""" + "\n");

        using var page = new HttpRequestMessage(HttpMethod.Get, "/who");
        page.Headers.Accept.ParseAdd("text/html");
        using var html = await router.Client.SendAsync(page);
        html.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        (await html.Content.ReadAsStringAsync()).Should().Contain("<p>upgrading &lt;db&gt; until 10:00</p>");

        await router.ApplyAsync(Tables.Table(Tables.Route(router.Port, Tables.Group("stable", 1, stable))));
        (await router.GetStringAsync("/who")).Should().Be("stable", "off again: the instances answer");
    }
}
