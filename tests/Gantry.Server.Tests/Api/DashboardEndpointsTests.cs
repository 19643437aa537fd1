using System.Net;
using Gantry.Server.Dashboard;

namespace Gantry.Server.Tests.Api;

/// <summary>
/// The dashboard's files as the server serves them: without a token, every answer with the Content-Security-Policy,
/// each file with its type and a validator, nothing outside the embedded files.
/// </summary>
[Collection(ServerTests.Name)]
public sealed class DashboardEndpointsTests
{
    [Fact(Timeout = 60_000)]
    public async Task Dashboard_Files_AreServedWithoutATokenUnderAStrictPolicy()
    {
        await using var h = await ServerHarness.StartAsync(listen => ServerHarness.ManifestText(listen, "canary: { steps: [{ setWeight: 50 }] }"));
        using var anonymous = new HttpClient { BaseAddress = h.Server.Address, Timeout = TimeSpan.FromSeconds(15) };

        DashboardEndpoints.Files.Keys.Should().Contain(["index.html", "app.js", "app.css", "api.js", "stream.js", "views/rollout.js"]);
        using var page = await anonymous.GetAsync(new Uri("/", UriKind.Relative));
        page.StatusCode.Should().Be(HttpStatusCode.OK);
        page.Content.Headers.ContentType!.MediaType.Should().Be("text/html");
        var html = await page.Content.ReadAsStringAsync();
        html.Should().Contain("<script type=\"module\" src=\"/ui/app.js\"></script>").And.NotContainAny("<script>", "style=", "http://", "https://");
        page.Headers.GetValues("Content-Security-Policy").Single().Should().Be(DashboardEndpoints.ContentSecurityPolicy);
        page.Headers.GetValues("X-Content-Type-Options").Single().Should().Be("nosniff");

        foreach (var (path, asset) in DashboardEndpoints.Files)
        {
            using var file = await anonymous.GetAsync(new Uri(path == "index.html" ? "/" : "/ui/" + path, UriKind.Relative));
            file.StatusCode.Should().Be(HttpStatusCode.OK, path);
            file.Content.Headers.ContentType!.ToString().Should().Be(asset.Type, path);
            (await file.Content.ReadAsByteArrayAsync()).Should().Equal(asset.Body, path);
            file.Headers.GetValues("Content-Security-Policy").Should().ContainSingle(path);
            if (path.EndsWith(".js", StringComparison.Ordinal))
            {
                // Text reaches the page as text: no script assigns markup.
                System.Text.Encoding.UTF8.GetString(asset.Body).Should().NotContainAny(["innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("], path);
            }

            using var again = new HttpRequestMessage(HttpMethod.Get, "/ui/" + path);
            again.Headers.IfNoneMatch.Add(new System.Net.Http.Headers.EntityTagHeaderValue(asset.ETag));
            using var unchanged = await anonymous.SendAsync(again);
            unchanged.StatusCode.Should().Be(HttpStatusCode.NotModified, path);

            // A browser holding several versions sends them as one list; a weak tag matches too (RFC 9110, 13.1.2).
            using var listed = new HttpRequestMessage(HttpMethod.Get, "/ui/" + path);
            listed.Headers.TryAddWithoutValidation("If-None-Match", $"\"0000\", W/{asset.ETag}");
            using var amongOthers = await anonymous.SendAsync(listed);
            amongOthers.StatusCode.Should().Be(HttpStatusCode.NotModified, path);
            using var other = new HttpRequestMessage(HttpMethod.Get, "/ui/" + path);
            other.Headers.TryAddWithoutValidation("If-None-Match", "\"0000\", \"1111\"");
            using var changed = await anonymous.SendAsync(other);
            changed.StatusCode.Should().Be(HttpStatusCode.OK, path);
        }

        foreach (var missing in new[] { "/ui/nothing.js", "/ui/../gantry.dll", "/ui/%2e%2e/appsettings.json", "/ui/DashboardEndpoints.cs" })
        {
            using var answer = await anonymous.GetAsync(new Uri(missing, UriKind.Relative));
            answer.StatusCode.Should().Be(HttpStatusCode.NotFound, missing);
        }

        using var api = await anonymous.GetAsync(new Uri("/api/v1/services", UriKind.Relative));
        api.StatusCode.Should().Be(HttpStatusCode.Unauthorized, "the page is public, the data is not");
    }
}
